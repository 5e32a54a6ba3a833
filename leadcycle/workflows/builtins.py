"""The workflows Leadcycle ships (SPEC §7), created after every migrate if missing. They are
ordinary workflows — adjustable, switchable — that cannot be deleted."""

from typing import Any

ORPHAN = "orphan_lead_contact"
QUALIFIED = "qualified_clears_marketing_only"

BUILTINS: dict[str, dict[str, Any]] = {
    ORPHAN: {
        "name": "Orphan leads get a marketing-only contact",
        "description": "A lead without a parent contact is linked to the contact the default "
        "contact strategy finds (or the one with its email), or to a new contact made from the "
        "lead's name, email and company and flagged marketing-only, so segments, journeys and "
        "scoring see it while sellers' views stay clean.",
        "entity": "lead",
        # Created or changed: an orphan given an email later, or whose contact was deleted,
        # is handled then.
        "trigger": "saved",
        "trigger_config": {},
        "conditions": [{"field": "parent_contact", "op": "is_empty"}],
        "actions": [{"type": "link_parent_contact"}],
        "enabled": False,
    },
    QUALIFIED: {
        "name": "Qualified leads make their contact sales-qualified",
        "description": "When a lead is qualified, its contact is no longer marketing-only: "
        "sellers see it in the Sales view.",
        "entity": "lead",
        "trigger": "field_changed",
        "trigger_config": {"field": "status"},
        "conditions": [{"field": "status", "op": "eq", "value": "qualified"}],
        "actions": [
            {"type": "set_fields", "on": "parent_contact", "values": {"marketing_only": False}}
        ],
        "enabled": True,
    },
}


def builtins_ensure(**_: object) -> None:
    from django.utils import timezone

    from leadcycle.workflows.models import Workflow

    # The first version of the orphan workflow ran on creation only.
    Workflow.objects.filter(builtin=ORPHAN, trigger="created").update(trigger="saved")
    for key, spec in BUILTINS.items():
        if not Workflow.objects.filter(builtin=key).exists():
            values = dict(spec)
            if Workflow.objects.filter(name=values["name"]).exists():  # a user's took the name
                values["name"] = f"{values['name']} (built in)"
            Workflow.objects.create(
                builtin=key, enabled_at=timezone.now() if spec["enabled"] else None, **values
            )
