from django.db import migrations


def forwards(apps, schema_editor):
    from leadcycle.process import defaults

    if not apps.get_model("process", "Process").objects.exists():
        defaults.create(apps)


def backwards(apps, schema_editor):
    from leadcycle.process.defaults import DEFAULT_NAME

    apps.get_model("process", "Process").objects.filter(name=DEFAULT_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("process", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
