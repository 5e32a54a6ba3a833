"""Reading the business process: a lead's bar (stages with their state and fields), its
history, and the queues."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from leadcycle.crm.models import Lead
from leadcycle.process.models import ProcessInstance, Stage
from leadcycle.process.services import history, instance_for, step_value, waiting
from leadcycle.process.steps import STEPS


def lead_process(lead: Lead) -> dict[str, Any]:
    """What the process bar and ``GET /leads/{id}/process`` show."""
    instance = instance_for(lead)
    instance.lead = lead
    stages = list(instance.process.stages.prefetch_related("fields").order_by("position"))
    drawn = []
    for stage in stages:
        if stage.position < instance.stage.position:
            state = "done"
        elif stage.pk == instance.stage_id:
            state = "current"
        else:
            state = "ahead"
        fields = [
            {
                "name": f.name,
                "label": STEPS[f.name].label,
                "kind": STEPS[f.name].kind,
                "choices": STEPS[f.name].choices,
                "required": f.required,
                "value": step_value(instance, f.name),
            }
            for f in stage.fields.all()
        ]
        drawn.append(
            {"id": stage.pk, "key": stage.key, "name": stage.name, "state": state, "fields": fields}
        )
    visits = [
        {
            "stage": v.stage.name,
            "process": v.instance.process.name,
            "entered_at": v.entered_at,
            "left_at": v.left_at,
            "by": v.by.username if v.by else None,
            "reason": v.reason,
        }
        for v in history(instance)
    ]
    return {
        "lead_id": lead.pk,
        "lead_status": lead.status,
        "process": instance.process,
        "stage": instance.stage,
        "entered_at": instance.entered_at,
        "outcome": instance.outcome,
        "stages": drawn,
        "history": visits,
        "waiting": waiting(instance),
        "held": instance.held,
        "instance": instance,
    }


def queue(
    name: str, *, owner: User | None = None, unaccepted: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    """Open leads standing at a stage of this queue, oldest first. ``owner``: only that
    seller's; ``unaccepted``: only those not yet sales-accepted."""
    query: QuerySet[ProcessInstance] = ProcessInstance.objects.filter(
        active=True, stage__queue=name, lead__status=Lead.Status.OPEN
    ).select_related("stage", "lead", "lead__parent_contact", "lead__parent_account", "lead__owner")
    if owner is not None:
        query = query.filter(lead__owner=owner, values__sales_accepted=True)
    if unaccepted:
        # A key missing from the JSON compares as NULL: ask for it by name.
        query = query.filter(~Q(values__has_key="sales_accepted") | Q(values__sales_accepted=False))
    now = timezone.now()
    return [
        {
            "lead_id": i.lead_id,
            "topic": i.lead.topic,
            "contact": str(i.lead.parent_contact) if i.lead.parent_contact else None,
            "account": str(i.lead.parent_account) if i.lead.parent_account else None,
            "stage": i.stage.name,
            "entered_at": i.entered_at,
            "age_days": (now - i.entered_at).days,
            "owner": i.lead.owner.username if i.lead.owner else None,
            "sales_accepted": i.values.get("sales_accepted") is True,
        }
        for i in query.order_by("entered_at", "id")[:limit]
    ]


QUEUES = {Stage.Queue.TELEMARKETING.value, Stage.Queue.SALES.value}
