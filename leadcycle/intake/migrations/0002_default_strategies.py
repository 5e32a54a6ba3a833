"""The default matching strategies of SPEC §3 and the settings row naming them."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    Strategy = apps.get_model("intake", "MatchingStrategy")
    Settings = apps.get_model("intake", "IntakeSettings")
    contact, _ = Strategy.objects.get_or_create(
        name="Contact by email",
        defaults={
            "target": "contact",
            "fields": ["contact.email"],
            "description": "One contact per email address (default).",
        },
    )
    lead, _ = Strategy.objects.get_or_create(
        name="Lead by email and form",
        defaults={
            "target": "lead",
            "fields": ["contact.email", "lead.origin_ref"],
            "description": "One lead per person and marketing form (default).",
        },
    )
    if not Settings.objects.exists():
        Settings.objects.create(default_contact_strategy=contact, default_lead_strategy=lead)


def remove_defaults(apps, schema_editor):
    apps.get_model("intake", "IntakeSettings").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
