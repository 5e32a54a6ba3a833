"""Workflow endpoints: workflows as documents (create, replace, delete), on and off (with
"apply to existing records"), the run log and webhook deliveries. Marketers and administrators
manage workflows; sales managers see them."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from leadcycle.users.permissions import require
from leadcycle.workflows import services
from leadcycle.workflows.models import WebhookDelivery, Workflow, WorkflowRun

router = Router(tags=["workflows"])


class WorkflowIn(Schema):
    name: str
    description: str = ""
    entity: str
    trigger: str
    trigger_config: dict[str, Any] = {}
    conditions: list[Any] = []
    actions: list[Any]


class EnableIn(Schema):
    apply_to_existing: bool = False


class RunOut(Schema):
    id: int
    record_id: int
    event: str
    status: str
    detail: str
    created_at: Any


class DeliveryOut(Schema):
    id: int
    run_id: int
    url: str
    status: str
    attempts: int
    next_attempt_at: Any
    last_error: str
    response_status: int | None
    delivered_at: Any


def _workflow(request: HttpRequest, workflow_id: int, action: str = "view") -> Workflow:
    require(request.user, action, Workflow)
    return get_object_or_404(Workflow, pk=workflow_id)


@router.get("/workflows", response=list[dict[str, Any]], operation_id="workflow_list")
def workflow_list(request: HttpRequest) -> list[dict[str, Any]]:
    require(request.user, "view", Workflow)
    return [services.workflow_document(w) for w in Workflow.objects.all()]


@router.post("/workflows", response={201: dict[str, Any]}, operation_id="workflow_create")
def workflow_create(request: HttpRequest, payload: WorkflowIn) -> Status[dict[str, Any]]:
    """Starts switched off. 422 names the part at fault (``conditions.0.field``,
    ``actions.1.values.salary``)."""
    require(request.user, "add", Workflow)
    workflow = services.workflow_save(workflow=None, by=request.user, data=payload.dict())
    return Status(201, services.workflow_document(workflow))


@router.get("/workflows/{workflow_id}", response=dict[str, Any], operation_id="workflow_get")
def workflow_get(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    return services.workflow_document(_workflow(request, workflow_id))


@router.put("/workflows/{workflow_id}", response=dict[str, Any], operation_id="workflow_replace")
def workflow_replace(request: HttpRequest, workflow_id: int, payload: WorkflowIn) -> dict[str, Any]:
    workflow = _workflow(request, workflow_id, "change")
    saved = services.workflow_save(workflow=workflow, by=request.user, data=payload.dict())
    return services.workflow_document(saved)


@router.delete("/workflows/{workflow_id}", response={204: None}, operation_id="workflow_delete")
def workflow_delete(request: HttpRequest, workflow_id: int) -> Status[None]:
    services.workflow_delete(workflow=_workflow(request, workflow_id, "delete"), by=request.user)
    return Status(204, None)


@router.post(
    "/workflows/{workflow_id}/enable", response=dict[str, Any], operation_id="workflow_enable"
)
def workflow_enable(request: HttpRequest, workflow_id: int, payload: EnableIn) -> dict[str, Any]:
    """Switch on; ``apply_to_existing``: also run it, in the background, for every record its
    conditions hold for now (the orphan-lead workflow's existing orphans, say)."""
    workflow = _workflow(request, workflow_id, "change")
    services.workflow_enable(
        workflow=workflow, by=request.user, apply_to_existing=payload.apply_to_existing
    )
    return services.workflow_document(workflow)


@router.post(
    "/workflows/{workflow_id}/disable", response=dict[str, Any], operation_id="workflow_disable"
)
def workflow_disable(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    workflow = _workflow(request, workflow_id, "change")
    return services.workflow_document(services.workflow_disable(workflow=workflow, by=request.user))


@router.get("/workflows/{workflow_id}/runs", response=list[RunOut], operation_id="workflow_runs")
def workflow_runs(request: HttpRequest, workflow_id: int, status: str = "") -> list[WorkflowRun]:
    """The run log, newest first (at most 500): one row per record and triggering event."""
    workflow = _workflow(request, workflow_id)
    runs = WorkflowRun.objects.filter(workflow=workflow)
    if status:
        runs = runs.filter(status=status)
    return list(runs[:500])


@router.get(
    "/workflows/{workflow_id}/deliveries",
    response=list[DeliveryOut],
    operation_id="workflow_deliveries",
)
def workflow_deliveries(request: HttpRequest, workflow_id: int) -> list[WebhookDelivery]:
    workflow = _workflow(request, workflow_id)
    return list(WebhookDelivery.objects.filter(run__workflow=workflow)[:500])
