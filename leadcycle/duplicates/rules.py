"""Which value each field of a merged record ends with.

By default nothing is lost: the survivor keeps its own values, and a field it has empty takes
the merged record's value. Two fields are decided by what they mean rather than by who has
them: a contact stays *marketing-only* only when both were (a person sales already knew is a
sales contact), and withdrawn consent wins over granted, granted over unknown (privacy first).
A person may override any field by choosing ``survivor`` or ``merged``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from leadcycle.audit.services import json_value
from leadcycle.duplicates.models import Entity

SURVIVOR, MERGED = "survivor", "merged"

# The fields a merge decides, in the order a person compares them.
MERGEABLE: dict[str, tuple[str, ...]] = {
    Entity.CONTACT: (
        "email",
        "first_name",
        "last_name",
        "job_title",
        "role",
        "phone",
        "country",
        "account",
        "owner",
        "consent",
        "marketing_only",
        "origin_channel",
    ),
    Entity.ACCOUNT: (
        "name",
        "web_domain",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "owner",
    ),
}

# Values that say "nothing known", which the other record's value may fill.
_EMPTY_DEFAULTS = {("contact", "role"): "other", ("contact", "consent"): "unknown"}
_CONSENT_ORDER = ("withdrawn", "granted", "unknown")


@dataclass(frozen=True)
class FieldChoice:
    """One field of the comparison: both values, whose value the survivor ends with, and why."""

    name: str
    label: str
    survivor: Any
    merged: Any
    choice: str  # SURVIVOR or MERGED
    result: Any
    rule: str  # "kept", "filled", "chosen", "rule"

    @property
    def differs(self) -> bool:
        return self.survivor != self.merged


def field_value(record: models.Model, name: str) -> Any:
    """A field's value as the merge stores and compares it (the audit trail's JSON form)."""
    field = record._meta.get_field(name)
    return json_value(getattr(record, field.attname), field)  # type: ignore[union-attr,arg-type]


def _empty(entity: str, name: str, value: Any) -> bool:
    return value in (None, "") or _EMPTY_DEFAULTS.get((entity, name)) == value


def keep_checked(entity: str, keep: Mapping[str, str] | None) -> dict[str, str]:
    """``keep`` as given, refused field by field (``keep.<name>``) when it names an unknown
    field or a side other than ``survivor`` and ``merged``."""
    errors: dict[str, ValidationError] = {}
    for name, side in (keep or {}).items():
        if name not in MERGEABLE[entity]:
            errors[f"keep.{name}"] = ValidationError(
                f"“{name}” is not a field a merge decides; choose from "
                f"{', '.join(MERGEABLE[entity])}.",
                code="unknown_field",
            )
        elif side not in (SURVIVOR, MERGED):
            errors[f"keep.{name}"] = ValidationError(
                "Say survivor or merged.", code="invalid_choice"
            )
    if errors:
        raise ValidationError(errors)
    return dict(keep or {})


def field_choices(
    entity: str,
    survivor: models.Model,
    merged: models.Model,
    keep: Mapping[str, str] | None = None,
) -> list[FieldChoice]:
    """Every mergeable field with the value the survivor ends with."""
    keep = keep_checked(entity, keep)
    choices = []
    for name in MERGEABLE[entity]:
        mine, theirs = field_value(survivor, name), field_value(merged, name)
        label = str(survivor._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
        if name in keep:
            choice, rule = keep[name], "chosen"
        elif name == "marketing_only":
            choice, rule = (SURVIVOR if mine is False or theirs is True else MERGED), "rule"
        elif name == "consent":
            best = min((mine, theirs), key=_CONSENT_ORDER.index)
            choice, rule = (SURVIVOR if best == mine else MERGED), "rule"
        elif _empty(entity, name, mine) and not _empty(entity, name, theirs):
            choice, rule = MERGED, "filled"
        else:
            choice, rule = SURVIVOR, "kept"
        result = mine if choice == SURVIVOR else theirs
        choices.append(FieldChoice(name, label, mine, theirs, choice, result, rule))
    return choices


def changed_fields(choices: list[FieldChoice]) -> dict[str, Any]:
    """The fields whose value the survivor changes: name -> new value."""
    return {c.name: c.result for c in choices if c.result != c.survivor}
