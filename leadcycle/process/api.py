"""Business process endpoints: processes (administrators edit them as one document), a lead's
process (bar, steps, moves, switch), qualification, and the queues.

Moving a lead needs the right to change leads; administering processes, the right to change
processes (administrators). Refusals name the reason: ``required_fields`` (with the fields),
``stage_other_process``, ``lead_closed``, ``lead_has_opportunity``, ``duplicates_found``.
"""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from leadcycle.crm.models import Lead
from leadcycle.errors import DomainError
from leadcycle.process import admin_services, qualify, schemas, selectors, services
from leadcycle.process.models import Process, ProcessSettings
from leadcycle.users.permissions import require

router = Router(tags=["process"])


def _lead(request: HttpRequest, lead_id: int, action: str = "view") -> Lead:
    require(request.user, action, Lead)
    return get_object_or_404(Lead, pk=lead_id)


@router.get("/processes", response=list[schemas.ProcessOut], operation_id="process_list")
def process_list(request: HttpRequest) -> list[Process]:
    require(request.user, "view", Process)
    return list(Process.objects.all())


@router.post("/processes", response={201: schemas.ProcessOut}, operation_id="process_create")
def process_create(request: HttpRequest, payload: schemas.ProcessDocument) -> Status[Process]:
    require(request.user, "add", Process)
    return Status(
        201, admin_services.process_save(process=None, by=request.user, data=payload.dict())
    )


@router.get("/processes/{process_id}", response=dict[str, Any], operation_id="process_get")
def process_get(request: HttpRequest, process_id: int) -> dict[str, Any]:
    """The process as its document, with its id and stage ids."""
    require(request.user, "view", Process)
    process = get_object_or_404(Process, pk=process_id)
    doc = admin_services.process_document(process)
    ids = dict(process.stages.values_list("key", "id"))
    for stage in doc["stages"]:
        stage["id"] = ids[stage["key"]]
    return {"id": process.pk, "version": process.version, **doc}


@router.put("/processes/{process_id}", response=schemas.ProcessOut, operation_id="process_replace")
def process_replace(
    request: HttpRequest, process_id: int, payload: schemas.ProcessDocument
) -> Process:
    require(request.user, "change", Process)
    process = get_object_or_404(Process, pk=process_id)
    return admin_services.process_save(process=process, by=request.user, data=payload.dict())


@router.post(
    "/processes/{process_id}/copy", response={201: schemas.ProcessOut}, operation_id="process_copy"
)
def process_copy(request: HttpRequest, process_id: int, payload: schemas.CopyIn) -> Status[Process]:
    require(request.user, "add", Process)
    process = get_object_or_404(Process, pk=process_id)
    return Status(
        201, admin_services.process_copy(process=process, by=request.user, name=payload.name)
    )


@router.delete("/processes/{process_id}", response={204: None}, operation_id="process_delete")
def process_delete(request: HttpRequest, process_id: int) -> Status[None]:
    require(request.user, "delete", Process)
    admin_services.process_delete(
        process=get_object_or_404(Process, pk=process_id), by=request.user
    )
    return Status(204, None)


@router.get(
    "/leads/{lead_id}/process", response=schemas.LeadProcessOut, operation_id="lead_process_get"
)
def lead_process(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The lead's process: its stages (done / current / ahead, with their fields and values)
    and the whole path it took, with who or which rule moved it."""
    return selectors.lead_process(_lead(request, lead_id))


@router.post(
    "/leads/{lead_id}/process/steps", response=schemas.LeadProcessOut, operation_id="lead_steps_set"
)
def lead_steps(request: HttpRequest, lead_id: int, payload: schemas.StepsIn) -> dict[str, Any]:
    """Set fields of the lead's stages; the process rules then move it on (ticking
    ``sales_ready`` moves it to Sales acceptance, for instance)."""
    lead = _lead(request, lead_id, "change")
    services.steps_set(lead=lead, by=request.user, values=payload.values)
    return selectors.lead_process(Lead.objects.get(pk=lead_id))


@router.post(
    "/leads/{lead_id}/process/next", response=schemas.LeadProcessOut, operation_id="lead_stage_next"
)
def lead_next(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The next stage; 422 ``required_fields`` naming the empty required fields."""
    services.stage_next(lead=_lead(request, lead_id, "change"), by=request.user)
    return selectors.lead_process(Lead.objects.get(pk=lead_id))


@router.post(
    "/leads/{lead_id}/process/move", response=schemas.LeadProcessOut, operation_id="lead_stage_move"
)
def lead_move(request: HttpRequest, lead_id: int, payload: schemas.MoveIn) -> dict[str, Any]:
    """Any stage of the lead's process (forward: required fields of the stages passed)."""
    lead = _lead(request, lead_id, "change")
    services.stage_move(lead=lead, by=request.user, stage_id=payload.stage_id)
    return selectors.lead_process(Lead.objects.get(pk=lead_id))


@router.post(
    "/leads/{lead_id}/process/switch",
    response=schemas.LeadProcessOut,
    operation_id="lead_process_switch",
)
def lead_switch(request: HttpRequest, lead_id: int, payload: schemas.SwitchIn) -> dict[str, Any]:
    lead = _lead(request, lead_id, "change")
    services.process_switch(lead=lead, by=request.user, process_id=payload.process_id)
    return selectors.lead_process(Lead.objects.get(pk=lead_id))


def _candidates(records: list[Any], detail: str) -> list[dict[str, Any]]:
    return [{"id": r.pk, "label": str(r), "detail": getattr(r, detail) or ""} for r in records]


@router.post(
    "/leads/{lead_id}/qualification/preview",
    response=schemas.QualificationPreviewOut,
    operation_id="lead_qualification_preview",
)
def qualification_preview(
    request: HttpRequest, lead_id: int, payload: schemas.QualifyIn
) -> dict[str, Any]:
    """What qualifying would create by default, and the existing records it would duplicate
    (link one with ``link_contact_id`` / ``link_account_id``)."""
    lead = _lead(request, lead_id)
    data = payload.dict()
    found = qualify.duplicates_for(lead=lead, data=data)
    settings = services.process_settings()
    return {
        "create_account": settings.create_account,
        "create_contact": settings.create_contact,
        "create_opportunity": settings.create_opportunity,
        "ask_each_time": settings.ask_each_time,
        "contact_id": lead.parent_contact_id,
        "account_id": lead.parent_account_id,
        "duplicate_contacts": _candidates(found.contacts, "email"),
        "duplicate_accounts": _candidates(found.accounts, "web_domain"),
    }


@router.post("/leads/{lead_id}/qualify", response=schemas.QualifiedOut, operation_id="lead_qualify")
def lead_qualify(request: HttpRequest, lead_id: int, payload: schemas.QualifyIn) -> dict[str, Any]:
    """Qualify the lead: account, contact and opportunity as the settings (or this request)
    say. 409 ``duplicates_found`` lists existing records to link instead; 409 ``lead_closed``
    for a lead already qualified or disqualified."""
    lead = _lead(request, lead_id, "change")
    done = qualify.lead_qualify(lead=lead, by=request.user, data=payload.dict())
    return {
        "lead_id": done.lead.pk,
        "status": done.lead.status,
        "opportunity_id": done.opportunity.pk if done.opportunity else None,
        "contact_id": done.contact.pk if done.contact else None,
        "account_id": done.account.pk if done.account else None,
        "created": done.created,
    }


def _status(lead: Lead) -> dict[str, Any]:
    return {"lead_id": lead.pk, "status": lead.status, "status_reason": lead.status_reason}


@router.post(
    "/leads/{lead_id}/disqualify", response=schemas.LeadStatusOut, operation_id="lead_disqualify"
)
def lead_disqualify(
    request: HttpRequest, lead_id: int, payload: schemas.DisqualifyIn
) -> dict[str, Any]:
    """``reason``: one of lost, cannot_contact, no_longer_interested, canceled, duplicate,
    other. 409 ``lead_has_opportunity`` when the lead has one."""
    lead = _lead(request, lead_id, "change")
    return _status(
        qualify.lead_disqualify(
            lead=lead, by=request.user, reason=payload.reason, note=payload.note
        )
    )


@router.post(
    "/leads/{lead_id}/reactivate", response=schemas.LeadStatusOut, operation_id="lead_reactivate"
)
def lead_reactivate(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    lead = _lead(request, lead_id, "change")
    return _status(qualify.lead_reactivate(lead=lead, by=request.user))


@router.get("/queues/{name}", response=list[schemas.QueueItemOut], operation_id="queue_list")
def queue_list(
    request: HttpRequest, name: str, mine: bool = False, unaccepted: bool = False
) -> list[dict[str, Any]]:
    """``telemarketing`` or ``sales``: open leads at its stages, oldest first. ``mine``: the
    leads assigned to me and accepted; ``unaccepted``: those waiting for a manager."""
    require(request.user, "view", Lead)
    if name not in selectors.QUEUES:
        raise DomainError(
            "unknown_queue", "No such queue.", fields={"name": "telemarketing or sales"},
            status=404,
        )  # fmt: skip
    owner = request.user if mine and isinstance(request.user, User) else None
    return selectors.queue(name, owner=owner, unaccepted=unaccepted)


@router.get("/process/settings", response=schemas.SettingsOut, operation_id="process_settings_get")
def settings_get(request: HttpRequest) -> ProcessSettings:
    require(request.user, "view", ProcessSettings)
    return services.process_settings()


@router.patch(
    "/process/settings", response=schemas.SettingsOut, operation_id="process_settings_update"
)
def settings_update(request: HttpRequest, payload: schemas.SettingsPatch) -> ProcessSettings:
    require(request.user, "change", ProcessSettings)
    settings = services.process_settings()
    for name, value in payload.dict(exclude_unset=True).items():
        if value is not None:
            setattr(settings, name, value)
    settings.save()
    return settings
