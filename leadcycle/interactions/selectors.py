"""Reads for interactions: which kinds exist, and the list of recorded interactions."""

from django.db.models import Count

from leadcycle.crm.models import Interaction
from leadcycle.interactions.models import InteractionKind

BUILTIN_KINDS: dict[str, str] = {str(k): str(label) for k, label in Interaction.Kind.choices}


def kinds_known() -> dict[str, str]:
    """Every kind an interaction may have, key → label: the built-in ones and the custom kinds
    an administrator registered."""
    return {**BUILTIN_KINDS, **dict(InteractionKind.objects.values_list("key", "label"))}


def kind_rows() -> list[dict[str, object]]:
    """Every kind, built-in first; custom kinds with how many interactions they have (one
    grouped query on the kind index)."""
    custom = list(InteractionKind.objects.all())
    counts = dict(
        Interaction.objects.filter(kind__in=[k.key for k in custom])
        .values("kind")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    rows: list[dict[str, object]] = [
        {"key": key, "label": label, "description": "", "builtin": True, "count": None}
        for key, label in BUILTIN_KINDS.items()
    ]
    rows += [
        {
            "key": k.key,
            "label": k.label,
            "description": k.description,
            "builtin": False,
            "count": counts.get(k.key, 0),
        }
        for k in custom
    ]
    return rows
