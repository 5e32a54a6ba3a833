"""Template helpers for CRM pages: sort links and cell rendering."""

from typing import Any

from django import template
from django.db import models
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

register = template.Library()


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


@register.filter
def cell(value: Any) -> Any:
    """A list cell: records link to their page, booleans become yes/—, dates are short."""
    if isinstance(value, bool):
        return format_html('<span class="badge ok">yes</span>') if value else "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, models.Model):
        try:
            url = reverse(f"crm:{value._meta.model_name}_detail", args=[value.pk])
        except NoReverseMatch:
            return str(value)
        return format_html('<a href="{}">{}</a>', url, value)
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "hour") else value.strftime("%Y-%m-%d")
    return value


@register.filter
def record_url(record: models.Model) -> str:
    return reverse(f"crm:{record._meta.model_name}_detail", args=[record.pk])


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def index(sequence: Any, position: int) -> Any:
    return sequence[position]
