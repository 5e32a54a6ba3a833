import pytest

from leadcycle.intake.models import FormField, IntakeSettings, MarketingForm


@pytest.fixture
def make_form(db):
    """``make_form(slug="demo", **overrides)`` → a live form asking email, names, company,
    and a consent box, with the default strategies."""

    def make(slug: str = "webinar", **overrides: object) -> MarketingForm:
        settings = IntakeSettings.objects.get()
        attrs = {
            "name": f"Form {slug}",
            "slug": slug,
            "title": "Join the webinar",
            "lead_topic": "Webinar interest",
            "campaign": "Spring Webinar Series",
            "contact_strategy": settings.default_contact_strategy,
            "lead_strategy": settings.default_lead_strategy,
            "allowed_origins": "https://www.example.com",
            **overrides,
        }
        form = MarketingForm.objects.create(**attrs)
        for position, (key, label, kind, required, maps_to) in enumerate(
            [
                ("email", "Email", "email", True, "contact.email"),
                ("first_name", "First name", "text", False, "contact.first_name"),
                ("last_name", "Last name", "text", False, "contact.last_name"),
                ("company", "Company", "text", False, "account.name"),
                ("employees", "Employees", "number", False, ""),
                ("consent", "I agree to be contacted", "consent", False, "contact.consent"),
            ]
        ):
            FormField.objects.create(
                form=form,
                key=key,
                label=label,
                kind=kind,
                required=required,
                maps_to=maps_to,
                position=position,
            )
        return form

    return make
