"""Staff forms: an event, and a registration taken by staff (walk-in, phone)."""

from typing import Any

from django import forms

from leadcycle.events.models import Event

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = [
            "name",
            "slug",
            "starts_at",
            "ends_at",
            "location",
            "description",
            "capacity",
            "waitlist_enabled",
            "registrant_matching",
            "create_leads",
            "lead_topic",
            "campaign",
            "is_published",
        ]
        widgets = {
            "starts_at": _DATETIME,
            "ends_at": _DATETIME,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "starts_at": "Starts",
            "ends_at": "Ends",
            "waitlist_enabled": "Waitlist when full",
            "create_leads": "Create a lead for every registration",
            "is_published": "Published: takes registrations on its public page",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        for name in ("create_leads", "is_published"):  # the label says it all
            self.fields[name].help_text = ""
        self.fields["slug"].help_text = "The public page is /e/<slug>/; empty: made from the name."
        for name in ("starts_at", "ends_at"):
            field = self.fields[name]
            assert isinstance(field, forms.DateTimeField)
            field.input_formats = [
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M:%S",
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", "The end must not be before the start.")
        return data


class WalkInForm(forms.Form):
    """A person registered by staff at the desk or on the phone."""

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.CharField(max_length=254, required=False)
    company = forms.CharField(max_length=200, required=False)
    check_in = forms.BooleanField(required=False, initial=True, label="Check in now")
