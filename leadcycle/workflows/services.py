"""Administering workflows: a workflow as one document, checked whole (errors name the part:
``conditions.0.field``, ``actions.1.values.salary``), saved in one transaction and audited;
switching on (optionally for the existing records, in the background), off, deleting."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadcycle.audit.services import Actor, audit_record
from leadcycle.errors import DomainError
from leadcycle.workflows import catalog
from leadcycle.workflows.models import Workflow


def workflow_document(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.pk,
        "name": workflow.name,
        "description": workflow.description,
        "entity": workflow.entity,
        "trigger": workflow.trigger,
        "trigger_config": workflow.trigger_config,
        "conditions": workflow.conditions,
        "actions": catalog.masked(workflow.actions),
        "enabled": workflow.enabled,
        "builtin": workflow.builtin,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


def _snapshot(workflow: Workflow) -> dict[str, Any]:
    """What the audit keeps of a workflow: everything but webhook secrets."""
    from leadcycle.audit.services import record_snapshot

    values = record_snapshot(workflow)
    values["actions"] = catalog.masked(workflow.actions)
    return values


def _checked(data: object, workflow: Workflow | None) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise catalog.problem("document", "An object with name, entity, trigger and actions.")
    entity = data.get("entity")
    if not isinstance(entity, str) or entity not in catalog.ENTITIES:
        raise catalog.problem("entity", f"One of: {', '.join(catalog.ENTITIES)}.")
    trigger = data.get("trigger")
    return {
        "name": catalog._text(data, "name", "", 200, True),
        "description": catalog._text(data, "description", "", 5_000, False, one_line=False),
        "entity": entity,
        "trigger": trigger,
        "trigger_config": catalog.check_trigger(entity, trigger, data.get("trigger_config")),
        "conditions": catalog.check_conditions(entity, data.get("conditions")),
        "actions": catalog.check_actions(
            entity, data.get("actions"), workflow.actions if workflow else None
        ),
    }


@transaction.atomic
def workflow_save(*, workflow: Workflow | None, by: Actor, data: object) -> Workflow:
    """Create (``workflow`` None) or replace a workflow. A new one starts switched off."""
    doc = _checked(data, workflow)
    others = Workflow.objects.exclude(pk=workflow.pk) if workflow else Workflow.objects.all()
    if others.filter(name=doc["name"]).exists():
        raise catalog.problem("name", "Another workflow has this name.")
    if workflow is None:
        workflow = Workflow(**doc)
        workflow.save()
        audit_record(actor=by, action="create", instance=workflow, after=_snapshot(workflow))
        return workflow
    before = _snapshot(workflow)
    for name, value in doc.items():
        setattr(workflow, name, value)
    workflow.save()
    audit_record(
        actor=by, action="update", instance=workflow, before=before, after=_snapshot(workflow)
    )
    return workflow


@transaction.atomic
def workflow_enable(*, workflow: Workflow, by: Actor, apply_to_existing: bool = False) -> Workflow:
    """Switch on; events from now on run it. ``apply_to_existing``: also, in the background,
    once for every record its conditions hold for now."""
    before = _snapshot(workflow)
    if not workflow.enabled:
        workflow.enabled, workflow.enabled_at = True, timezone.now()
        workflow.save(update_fields=["enabled", "enabled_at", "updated_at"])
        audit_record(
            actor=by, action="update", instance=workflow, before=before, after=_snapshot(workflow)
        )
    if apply_to_existing:
        workflow_apply(workflow=workflow)
    return workflow


def workflow_apply(*, workflow: Workflow) -> None:
    if not workflow.enabled:
        raise DomainError(
            "workflow_off", "Switch the workflow on first.", fields={"enabled": "off"}
        )
    from leadcycle.workflows.tasks import apply_existing

    pk = workflow.pk
    transaction.on_commit(lambda: apply_existing.enqueue(pk))


@transaction.atomic
def workflow_disable(*, workflow: Workflow, by: Actor) -> Workflow:
    before = _snapshot(workflow)
    if workflow.enabled:
        workflow.enabled = False
        workflow.save(update_fields=["enabled", "updated_at"])
        audit_record(
            actor=by, action="update", instance=workflow, before=before, after=_snapshot(workflow)
        )
    return workflow


@transaction.atomic
def workflow_delete(*, workflow: Workflow, by: Actor) -> None:
    if workflow.builtin:
        raise DomainError(
            "workflow_builtin",
            "A built-in workflow can be switched off, not deleted.",
            fields={"builtin": workflow.builtin},
        )
    audit_record(actor=by, action="delete", instance=workflow, before=_snapshot(workflow))
    workflow.delete()
