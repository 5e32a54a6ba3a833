"""UI forms. They only parse and show errors; the services validate and save."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse

from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task


class RecordPicker(forms.Select):
    """A select holding only the chosen record, plus a search box that loads matches with htmx,
    so a form stays light with a million contacts."""

    template_name = "crm/widgets/record_picker.html"

    def __init__(self, pick_url_name: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.pick_url_name = pick_url_name

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["pick_url"] = reverse(self.pick_url_name)
        return context

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> Any:
        # Render only the selected record (and the empty choice), never the whole table.
        chosen = {str(v) for v in value if v not in (None, "")}
        groups = []
        index = 0
        field_queryset = getattr(self.choices, "queryset", None)
        if field_queryset is not None and chosen:
            for obj in field_queryset.filter(pk__in=chosen):
                groups.append(
                    (None, [self.create_option(name, obj.pk, str(obj), True, index)], index)
                )
                index += 1
        groups.insert(0, (None, [self.create_option(name, "", "—", not chosen, 0)], 0))
        return groups


def _user_choices() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class OwnedForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field_name in ("owner", "assignee"):
            if field_name in self.fields:
                self.fields[field_name].queryset = _user_choices()  # type: ignore[attr-defined]


class AccountForm(OwnedForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "web_domain",
            "industry",
            "employees",
            "annual_revenue",
            "country",
            "owner",
        ]


class ContactForm(OwnedForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "email",
            "job_title",
            "role",
            "phone",
            "country",
            "account",
            "marketing_only",
            "consent",
            "owner",
        ]
        widgets = {"account": RecordPicker("crm:account_pick")}


class LeadForm(OwnedForm):
    new_contact_email = forms.EmailField(
        required=False, label="…or a new contact: email", max_length=254
    )
    new_contact_first_name = forms.CharField(required=False, label="First name", max_length=100)
    new_contact_last_name = forms.CharField(required=False, label="Last name", max_length=100)

    class Meta:
        model = Lead
        fields = [
            "topic",
            "campaign",
            "source_channel",
            "origin_ref",
            "first_name",
            "last_name",
            "email",
            "company_name",
            "parent_contact",
            "parent_account",
            "status",
            "status_reason",
            "sales_ready",
            "telemarketing_ready",
            "description",
            "owner",
        ]
        widgets = {
            "parent_contact": RecordPicker("crm:contact_pick"),
            "parent_account": RecordPicker("crm:account_pick"),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("new_contact_email", "new_contact_first_name", "new_contact_last_name"):
                del self.fields[name]

    def new_contact(self) -> dict[str, str] | None:
        """The contact to create with the lead, when the user filled in the new-contact fields."""
        data = self.cleaned_data
        email = data.get("new_contact_email") or ""
        first, last = (
            data.get("new_contact_first_name") or "",
            data.get("new_contact_last_name") or "",
        )
        if not (email or first or last):
            return None
        return {"email": email, "first_name": first, "last_name": last, "origin_channel": "manual"}


class OpportunityForm(OwnedForm):
    class Meta:
        model = Opportunity
        fields = ["name", "lead", "contact", "account", "value", "stage", "expected_close", "owner"]
        widgets = {
            "lead": RecordPicker("crm:lead_pick"),
            "contact": RecordPicker("crm:contact_pick"),
            "account": RecordPicker("crm:account_pick"),
            "expected_close": forms.DateInput(attrs={"type": "date"}),
        }


class TaskForm(OwnedForm):
    class Meta:
        model = Task
        fields = ["subject", "kind", "lead", "contact", "assignee", "queue", "due_at", "done"]
        widgets = {
            "lead": RecordPicker("crm:lead_pick"),
            "contact": RecordPicker("crm:contact_pick"),
            # Seconds shown (step=1) so saving the form unchanged does not change due_at.
            "due_at": forms.DateTimeInput(
                attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
            ),
        }
