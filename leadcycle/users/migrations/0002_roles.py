"""Create the five roles and grant each its model permissions from users.roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from leadcycle.users.roles import ROLES, permission_codenames


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the roles
    # can be granted them in this migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        codenames = permission_codenames(role)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="crm", codename__in=codenames)
        )


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
