"""Template helpers for CRM pages: sort and page links, table cells, badges, filter choices,
form sections and the active navigation link."""

import datetime
from decimal import Decimal
from typing import Any

from django import forms, template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, QueryDict
from django.template.defaultfilters import floatformat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# Badge colour per choice value of the fields shown as badges (status, stage, consent).
_BADGE_TONES = {
    "open": "info",
    "qualified": "ok",
    "disqualified": "muted",
    "qualify": "info",
    "develop": "info",
    "propose": "warn",
    "won": "ok",
    "lost": "muted",
    "granted": "ok",
    "withdrawn": "err",
    "unknown": "muted",
}
_BADGE_FIELDS = {"status", "stage", "consent"}


@register.simple_tag(takes_context=True)
def sort_url(context: Any, field: str) -> str:
    """The current list URL sorted by ``field``; toggles the direction when already sorted."""
    params: QueryDict = context["request"].GET.copy()
    current = context["page"].sort
    params["sort"] = f"-{field}" if current == field else field
    params.pop("page", None)
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: int) -> str:
    params: QueryDict = context["request"].GET.copy()
    params["page"] = str(number)
    return "?" + params.urlencode()


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def cell(value: Any) -> Any:
    """A value on a page: records link to their page, booleans become yes/—, dates are short."""
    if isinstance(value, bool):
        return SafeString('<span class="badge ok">yes</span>') if value else "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, models.Model):
        try:
            url = reverse(f"crm:{value._meta.model_name}_detail", args=[value.pk])
        except NoReverseMatch:
            return str(value)
        return format_html('<a href="{}">{}</a>', url, value)
    if isinstance(value, datetime.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, int):
        return str(floatformat(value, "g"))  # 12,500 employees
    return value


@register.filter
def money(value: Any) -> str:
    """``189000.00`` → ``189,000``; cents only when there are any."""
    if value is None or value == "":
        return "—"
    decimal = Decimal(value)
    return str(floatformat(decimal, "0g" if decimal == decimal.to_integral() else "2g"))


def _choice_value(record: models.Model, attr: str) -> str | None:
    """For ``get_<field>_display`` columns of badge fields, the raw choice value."""
    if attr.startswith("get_") and attr.endswith("_display"):
        name = attr[4:-8]
        if name in _BADGE_FIELDS:
            return str(getattr(record, name, ""))
    return None


@register.simple_tag
def badge(value: str, label: Any = None) -> SafeString:
    """A coloured pill for a status, stage or consent value."""
    tone = _BADGE_TONES.get(str(value), "info")
    text = label if label is not None else value
    return format_html('<span class="badge {}">{}</span>', tone, text)


@register.simple_tag
def table_cell(record: models.Model, column: Any, value: Any, url: str = "") -> SafeString:
    """One ``<td>`` of a record list, with its label for the phone layout."""
    classes = []
    if column.link:
        href = url or record_url(record)
        content = format_html('<a href="{}">{}</a>', href, value or "(no name)")
        classes.append("primary")
    elif (raw := _choice_value(record, column.attr)) is not None:
        content = badge(raw, value)
    else:
        content = cell(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        classes.append("num")
    if isinstance(value, datetime.date):
        classes.append("nowrap")
    return format_html(
        '<td data-label="{}"{}>{}</td>',
        column.label,
        format_html(' class="{}"', " ".join(classes)) if classes else "",
        content,
    )


@register.filter
def record_url(record: models.Model) -> str:
    return reverse(f"crm:{record._meta.model_name}_detail", args=[record.pk])


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def index(sequence: Any, position: int) -> Any:
    return sequence[position]


@register.simple_tag
def filter_choices(model: type[models.Model], flt: Any) -> list[tuple[str, str]]:
    """``(value, label)`` pairs of a list filter, with the model's display labels."""
    if not flt.choices:
        return [("true", "Yes"), ("false", "No")]
    labels: dict[str, str] = {}
    try:
        model_field = model._meta.get_field(flt.lookup.split("__")[0])
    except FieldDoesNotExist:  # a lookup across a relation keeps its raw values
        pass
    else:
        labels = {str(k): str(v) for k, v in (getattr(model_field, "flatchoices", None) or [])}
    return [
        (choice, labels.get(choice, choice.replace("_", " ").capitalize()))
        for choice in flt.choices
    ]


@register.filter
def choice_label(value: Any, field: str) -> str:
    """``"develop"|choice_label:"opportunity.stage"`` → ``"Develop"``."""
    model_name, field_name = field.split(".")
    model_field = apps.get_model("crm", model_name)._meta.get_field(field_name)
    return str(dict(getattr(model_field, "flatchoices", [])).get(value, value))


# How the create/edit forms group their fields. Fields a form has that are not listed here
# still render, in a last "More" section, so a new model field never disappears from the UI.
_FORM_SECTIONS: dict[str, list[tuple[str, str, list[str]]]] = {
    "lead": [
        ("Lead", "", ["topic", "campaign", "source_channel", "origin_ref"]),
        (
            "Contact and account",
            "Search by name or email, then pick from the list.",
            ["parent_contact", "parent_account"],
        ),
        (
            "…or create a new contact",
            "Leave empty when the lead belongs to an existing contact.",
            ["new_contact_email", "new_contact_first_name", "new_contact_last_name"],
        ),
        ("Qualification", "", ["status", "sales_ready", "telemarketing_ready", "owner"]),
        ("Notes", "", ["description"]),
    ],
    "contact": [
        ("Person", "", ["first_name", "last_name", "email", "phone", "job_title", "role"]),
        ("Company", "", ["account", "country"]),
        ("Marketing", "", ["consent", "marketing_only", "owner"]),
    ],
    "account": [
        ("Company", "", ["name", "web_domain", "industry", "country"]),
        ("Size", "", ["employees", "annual_revenue", "owner"]),
    ],
    "opportunity": [
        ("Opportunity", "", ["name", "value", "stage", "expected_close", "owner"]),
        ("Linked records", "", ["lead", "contact", "account"]),
    ],
    "task": [
        ("Task", "", ["subject", "kind", "due_at"]),
        (
            "Who does it",
            "A task goes to a person, or waits in a queue.",
            ["assignee", "queue", "done"],
        ),
        ("About", "", ["lead", "contact"]),
    ],
}
_LABELS = {"new_contact_email": "Email"}
_WIDE_WIDGETS = {"textarea"}


@register.simple_tag
def form_sections(form: Any) -> list[dict[str, Any]]:
    """The form's fields grouped into titled sections (empty sections are left out)."""
    model_name = form._meta.model._meta.model_name
    for form_field in form.fields.values():
        # The same dash as the record pickers, instead of Django's "---------".
        if getattr(form_field, "empty_label", None) == "---------":
            form_field.empty_label = "—"
        elif type(form_field) in (forms.ChoiceField, forms.TypedChoiceField):
            choices = list(form_field.choices)
            if choices and choices[0] == ("", "---------"):
                form_field.choices = [("", "—"), *choices[1:]]
    layout = _FORM_SECTIONS.get(model_name, [])
    seen: set[str] = set()
    sections = []
    for title, hint, names in layout:
        fields = [form[name] for name in names if name in form.fields]
        seen.update(names)
        if fields:
            sections.append({"title": title, "hint": hint, "fields": fields})
    rest = [form[name] for name in form.fields if name not in seen]
    if rest:
        sections.append({"title": "More" if sections else "", "hint": "", "fields": rest})
    return sections


@register.filter
def field_label(bound_field: Any) -> str:
    return _LABELS.get(bound_field.name, str(bound_field.label))


@register.filter
def is_wide(bound_field: Any) -> bool:
    return bound_field.widget_type in _WIDE_WIDGETS


@register.simple_tag(takes_context=True)
def nav_current(context: Any, prefix: str) -> SafeString:
    """``aria-current="page"`` when the current path is under ``prefix``."""
    request: HttpRequest | None = context.get("request")
    path = request.path if request is not None else ""
    current = path == "/" if prefix == "/" else path.startswith(prefix)
    return SafeString(' aria-current="page"' if current else "")


@register.filter
def in_stage_order(rows: Any) -> list[Any]:
    """Pipeline rows (dicts with ``stage``) in the order deals move, not alphabetically."""
    order = {
        value: position
        for position, value in enumerate(apps.get_model("crm", "Opportunity").Stage.values)
    }
    return sorted(rows, key=lambda row: order.get(row["stage"], len(order)))


@register.filter
def column_class(column: Any, model: type[models.Model]) -> str:
    """``num`` for columns of number fields, so headers line up with right-aligned cells."""
    try:
        model_field = model._meta.get_field(column.attr)
    except FieldDoesNotExist:
        return ""
    numeric = (models.IntegerField, models.DecimalField, models.FloatField)
    return "num" if isinstance(model_field, numeric) else ""
