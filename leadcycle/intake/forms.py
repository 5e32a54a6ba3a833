"""UI forms of the intake staff pages. They parse and show errors; the services validate and
save (so the pages and the API share one set of rules)."""

from typing import Any

from django import forms

from leadcycle.intake.fields import FIELDS
from leadcycle.intake.models import FormField, IntakeSettings, MarketingForm, MatchingStrategy
from leadcycle.intake.selectors import matchable_choices, strategies_for
from leadcycle.intake.services import FORM_OWN_LEAD_FIELDS

_ENTITY_LABELS = {"contact": "Contact", "lead": "Lead", "account": "Account (company)"}


def maps_to_choices() -> list[tuple[str, Any]]:
    """The record fields a question may fill, grouped by record, for a ``<select>``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for path, spec in FIELDS.items():
        if path in FORM_OWN_LEAD_FIELDS:
            continue
        groups.setdefault(spec.entity, []).append((path, f"{spec.label} ({path})"))
    groups["contact"].append(("contact.consent", "Consent (contact.consent) — consent checkbox"))
    return [
        ("", "— none (submission only)"),
        *[(_ENTITY_LABELS[entity], options) for entity, options in groups.items()],
    ]


class StrategySelect(forms.ModelChoiceField):
    """A strategy, shown with the fields it compares."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", None)
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        fields = ", ".join(FIELDS[p].label.lower() for p in obj.fields if p in FIELDS)
        return f"{obj.name} — {fields}" if fields else str(obj.name)


class MarketingFormForm(forms.ModelForm):
    """A form's settings: address, texts, what it updates and how it matches."""

    contact_strategy = StrategySelect(
        queryset=MatchingStrategy.objects.none(),
        help_text="How a submission finds the existing contact.",
    )
    lead_strategy = StrategySelect(
        queryset=MatchingStrategy.objects.none(),
        help_text="How a submission finds the existing lead.",
    )
    redirect_url = forms.URLField(
        label="Redirect URL",
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="Where to send the visitor afterwards; empty shows the thank-you message.",
    )

    class Meta:
        model = MarketingForm
        fields = [
            "name",
            "slug",
            "title",
            "intro",
            "update_mode",
            "generate_leads_without_matching",
            "contact_strategy",
            "lead_strategy",
            "lead_topic",
            "campaign",
            "submit_label",
            "thank_you_message",
            "redirect_url",
            "allowed_origins",
            "is_live",
        ]
        labels = {
            "slug": "Address",
            "intro": "Introduction",
            "generate_leads_without_matching": "Generate leads without matching",
            "is_live": "Live (the hosted page and the endpoint accept submissions)",
            "redirect_url": "Redirect URL",
        }
        help_texts = {
            "slug": "The hosted page is /f/<address>; letters, digits and dashes.",
            "name": "What staff call the form.",
        }
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 3}),
            "allowed_origins": forms.Textarea(
                attrs={"rows": 2, "placeholder": "https://www.example.com"}
            ),
        }

    SECTIONS = (
        ("Form", "", ("name", "slug", "title", "intro")),
        (
            "What it updates",
            "Strategies decide when a submission is the same person or the same lead as before.",
            ("update_mode", "contact_strategy", "lead_strategy", "generate_leads_without_matching"),
        ),
        ("Leads it creates", "", ("lead_topic", "campaign")),
        ("After submitting", "", ("submit_label", "thank_you_message", "redirect_url")),
        ("Publishing", "", ("allowed_origins", "is_live")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_strategy"].queryset = strategies_for("contact")  # type: ignore[attr-defined]
        self.fields["lead_strategy"].queryset = strategies_for("lead")  # type: ignore[attr-defined]
        self.fields[
            "update_mode"
        ].help_text = (
            "Only leads: the lead gets a parent contact only when the visitor is already known."
        )

    def validate_unique(self) -> None:
        """The service checks that the address is free, together with its other rules."""

    def sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (title, hint, [self[name] for name in names]) for title, hint, names in self.SECTIONS
        ]

    def service_data(self, names: list[str] | None = None) -> dict[str, Any]:
        """Service input from the valid form: strategies by id."""
        data: dict[str, Any] = {}
        for name in names if names is not None else list(self.fields):
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if name in ("contact_strategy", "lead_strategy"):
                data[f"{name}_id"] = value.pk if value is not None else None
            else:
                data[name] = value
        return data


class FormFieldForm(forms.ModelForm):
    """One question of the builder."""

    maps_to = forms.ChoiceField(
        label="Fills the record field",
        required=False,
        choices=maps_to_choices,
        help_text="Where the answer goes when the submission is applied.",
    )

    class Meta:
        model = FormField
        fields = ["label", "key", "kind", "required", "maps_to", "choices", "help_text"]
        labels = {
            "label": "Question",
            "key": "Key",
            "kind": "Type",
            "required": "Required",
            "choices": "Options",
            "help_text": "Help text",
        }
        help_texts = {
            "key": "The answer's name in submissions and in the JSON endpoint, e.g. email.",
            "choices": "For choice questions: one option per line.",
            "help_text": "Shown under the question.",
        }
        widgets = {"choices": forms.Textarea(attrs={"rows": 3})}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}


class StrategyForm(forms.Form):
    """A matching strategy: name, target and an ordered list of fields (one select per place,
    so the order is what the person chose)."""

    name = forms.CharField(max_length=100)
    target = forms.ChoiceField(
        choices=MatchingStrategy.Target.choices,
        help_text="Which record the strategy finds.",
    )
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, slots: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields_errors: list[str] = []
        target = self._target()
        options = matchable_choices(target)
        self.target_choice_count = len(options)
        chosen = list(self.initial.get("fields") or [])
        count = max(slots, len(chosen) + 1, 2) if not self.is_bound else slots
        count = min(max(count, 1), len(options))
        self.slot_names = []
        for index in range(count):
            name = f"field_{index}"
            self.slot_names.append(name)
            self.fields[name] = forms.ChoiceField(
                label=f"Field {index + 1}",
                choices=[("", "—"), *options],
                required=False,
                initial=chosen[index] if index < len(chosen) else "",
            )

    def _target(self) -> str:
        raw = self.data.get("target") if self.is_bound else self.initial.get("target")
        return raw if raw in MatchingStrategy.Target.values else MatchingStrategy.Target.CONTACT

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "target": data["target"],
            "description": data.get("description", ""),
            "fields": [data[name] for name in self.slot_names if data.get(name)],
        }


def strategy_slots(data: Any, target: str) -> int:
    """How many field places a posted strategy form shows: those posted, capped by what the
    target allows."""
    posted = sum(1 for key in data if key.startswith("field_"))
    return min(max(posted, 1), len(matchable_choices(target)))


class IntakeSettingsForm(forms.ModelForm):
    """The default strategy pair for new forms."""

    default_contact_strategy = StrategySelect(
        queryset=MatchingStrategy.objects.none(), label="Default contact strategy"
    )
    default_lead_strategy = StrategySelect(
        queryset=MatchingStrategy.objects.none(), label="Default lead strategy"
    )

    class Meta:
        model = IntakeSettings
        fields = ["default_contact_strategy", "default_lead_strategy"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_contact_strategy"].queryset = strategies_for("contact")  # type: ignore[attr-defined]
        self.fields["default_lead_strategy"].queryset = strategies_for("lead")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        return {
            f"{name}_id": self.cleaned_data[name].pk
            for name in ("default_contact_strategy", "default_lead_strategy")
        }
