"""UI forms of the LinkedIn connector pages. They parse and show errors; the services validate
and save (so the pages and the API share one set of rules)."""

from typing import Any

from django import forms

from leadcycle.intake.fields import FIELDS
from leadcycle.intake.models import MatchingStrategy
from leadcycle.linkedin.models import MAPPABLE_FIELDS, Connector, FieldMapping
from leadcycle.linkedin.services import secret_masked

_ENTITY_LABELS = {"contact": "Contact", "lead": "Lead", "account": "Account (company)"}


def maps_to_choices() -> list[tuple[str, Any]]:
    """The record fields an answer may fill, grouped by record, for a ``<select>``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for path in MAPPABLE_FIELDS:
        spec = FIELDS[path]
        groups.setdefault(spec.entity, []).append((path, f"{spec.label} ({path})"))
    return [(_ENTITY_LABELS[entity], options) for entity, options in groups.items()]


class StrategyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        fields = ", ".join(FIELDS[p].label.lower() for p in obj.fields if p in FIELDS)
        return f"{obj.name} — {fields}" if fields else str(obj.name)


class ConnectorForm(forms.Form):
    """The connector's settings. Secret fields are never filled in: blank keeps what is stored."""

    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(
        required=False,
        label="Enabled",
        help_text="Sync on schedule and on LinkedIn's notifications.",
    )
    api_base_url = forms.URLField(
        label="API address",
        max_length=200,
        assume_scheme="https",
        help_text="https://api.linkedin.com. Changing it forgets the stored access token.",
    )
    access_token = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="OAuth token with r_marketing_leadgen_automation. Blank keeps the stored one.",
    )
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="The LinkedIn app's client secret; checks webhook signatures. Blank keeps it.",
    )
    sponsored_accounts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: urn:li:sponsoredAccount:123",
    )
    linkedin_version = forms.CharField(
        label="LinkedIn-Version", max_length=9, help_text="Marketing API version, YYYYMM."
    )
    mode = forms.ChoiceField(
        label="Strategy",
        choices=Connector.Mode.choices,
        help_text="Always create a new lead, or update the open lead the lead strategy finds.",
    )
    lead_strategy = StrategyChoice(
        queryset=MatchingStrategy.objects.filter(target="lead"),
        required=False,
        empty_label="Intake default",
        help_text="Used in match mode.",
    )
    contact_creation_enabled = forms.BooleanField(
        required=False,
        label="Enable contact creation",
        help_text="Off: no contact is created or changed; leads link to an existing contact "
        "when one matches, otherwise they stay orphan leads.",
    )
    contact_strategy = StrategyChoice(
        queryset=MatchingStrategy.objects.filter(target="contact"),
        required=False,
        empty_label="Intake default",
        help_text="How a response finds its contact.",
    )
    lead_topic = forms.CharField(max_length=200, label="Lead topic")
    campaign = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, connector: Connector, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": connector.name,
                "enabled": connector.enabled,
                "api_base_url": connector.api_base_url,
                "sponsored_accounts": connector.sponsored_accounts,
                "linkedin_version": connector.linkedin_version,
                "mode": connector.mode,
                "lead_strategy": connector.lead_strategy_id,
                "contact_creation_enabled": connector.contact_creation_enabled,
                "contact_strategy": connector.contact_strategy_id,
                "lead_topic": connector.lead_topic,
                "campaign": connector.campaign,
            },
        )
        super().__init__(*args, **kwargs)
        for name in ("access_token", "client_secret"):
            stored = secret_masked(getattr(connector, name))
            self.fields[name].widget.attrs["placeholder"] = (
                f"Stored: {stored}" if stored else "Not set"
            )

    def service_data(self) -> dict[str, Any]:
        """Service input: strategies by id; blank secrets left out (kept)."""
        data = dict(self.cleaned_data)
        for name in ("lead_strategy", "contact_strategy"):
            chosen = data.pop(name)
            data[f"{name}_id"] = chosen.pk if chosen is not None else None
        for name in ("access_token", "client_secret"):
            if not data.get(name):
                data.pop(name, None)
        return data


class MappingForm(forms.ModelForm):
    maps_to = forms.ChoiceField(label="Fills", choices=maps_to_choices)

    class Meta:
        model = FieldMapping
        fields = ["form_urn", "question_id", "maps_to"]
        labels = {"question_id": "Question id"}

    def _post_clean(self) -> None:
        # The service validates (and normalises the form URN); the form only parses.
        pass
