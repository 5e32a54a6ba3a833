"""Template helpers for the staff event pages."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

_TONES = {"registered": "info", "waitlisted": "warn", "checked_in": "ok", "cancelled": "muted"}

# How the event form groups its fields.
_SECTIONS: list[tuple[str, str, list[str]]] = [
    ("Event", "", ["name", "slug", "starts_at", "ends_at", "location", "description"]),
    ("Seats", "", ["capacity", "waitlist_enabled"]),
    (
        "Registrants and leads",
        "",
        ["registrant_matching", "create_leads", "lead_topic", "campaign"],
    ),
    ("Publishing", "", ["is_published"]),
]


@register.simple_tag
def registration_badge(status: str, label: Any) -> SafeString:
    return format_html('<span class="badge {}">{}</span>', _TONES.get(status, "info"), label)


@register.simple_tag
def event_form_sections(form: Any) -> list[dict[str, Any]]:
    seen: set[str] = set()
    sections = []
    for title, hint, names in _SECTIONS:
        fields = [form[name] for name in names if name in form.fields]
        seen.update(names)
        if fields:
            sections.append({"title": title, "hint": hint, "fields": fields})
    rest = [form[name] for name in form.fields if name not in seen]
    if rest:
        sections.append({"title": "More", "hint": "", "fields": rest})
    return sections
