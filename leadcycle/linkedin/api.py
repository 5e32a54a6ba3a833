"""Staff API of the LinkedIn connector (``/api/v1/linkedin/…``): the connector's settings, its
question mappings, *Sync now* and the sync log. Roles: viewing and changing the connector
(mappings and *Sync now* are part of it) and viewing sync runs (and the responses received)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from leadcycle.linkedin import schemas, selectors, services
from leadcycle.linkedin.models import Connector, FieldMapping, SyncRun
from leadcycle.linkedin.public_api import PATH as WEBHOOK_PATH
from leadcycle.users.permissions import require

router = Router(tags=["linkedin"])


def _connector_out(connector: Connector) -> dict[str, Any]:
    return {
        "id": connector.pk,
        "name": connector.name,
        "enabled": connector.enabled,
        "api_base_url": connector.api_base_url,
        "access_token_set": bool(connector.access_token),
        "access_token_masked": services.secret_masked(connector.access_token),
        "client_secret_set": bool(connector.client_secret),
        "client_secret_masked": services.secret_masked(connector.client_secret),
        "sponsored_accounts": connector.sponsored_account_urns(),
        "linkedin_version": connector.linkedin_version,
        "mode": connector.mode,
        "lead_strategy_id": connector.lead_strategy_id,
        "contact_strategy_id": connector.contact_strategy_id,
        "contact_creation_enabled": connector.contact_creation_enabled,
        "lead_topic": connector.lead_topic,
        "campaign": connector.campaign,
        "cursor_submitted_at": connector.cursor_submitted_at,
        "last_sync_at": connector.last_sync_at,
        "webhook_path": f"/api/v1/public{WEBHOOK_PATH}",
    }


class PageQuery(Schema):
    page: int = 1
    page_size: int = 25


@router.get(
    "/linkedin/connector",
    response=schemas.ConnectorOut,
    operation_id="linkedin_connector_get",
    summary="The LinkedIn connector (secrets masked)",
)
def connector_get(request: HttpRequest) -> dict[str, Any]:
    require(request.user, "view", Connector)
    return _connector_out(services.connector_current())


@router.patch(
    "/linkedin/connector",
    response=schemas.ConnectorOut,
    operation_id="linkedin_connector_update",
    summary="Change the LinkedIn connector",
)
def connector_update(request: HttpRequest, payload: schemas.ConnectorPatch) -> dict[str, Any]:
    require(request.user, "change", Connector)
    data = payload.dict(exclude_unset=True)
    if "sponsored_accounts" in data:
        data["sponsored_accounts"] = "\n".join(data["sponsored_accounts"] or [])
    connector = services.connector_update(
        connector=services.connector_current(), by=request.user, data=data
    )
    return _connector_out(connector)


@router.get(
    "/linkedin/mappings",
    response=list[schemas.MappingOut],
    operation_id="linkedin_mapping_list",
    summary="Question mappings",
)
def mapping_list(request: HttpRequest) -> list[FieldMapping]:
    require(request.user, "view", Connector)
    return selectors.mappings_of(services.connector_current())


@router.post(
    "/linkedin/mappings",
    response={201: schemas.MappingOut},
    operation_id="linkedin_mapping_create",
    summary="Map a LinkedIn question to a record field",
)
def mapping_create(request: HttpRequest, payload: schemas.MappingIn) -> Status[FieldMapping]:
    require(request.user, "change", Connector)
    mapping = services.mapping_create(
        connector=services.connector_current(), by=request.user, data=payload.dict()
    )
    return Status(201, mapping)


def _mapping(mapping_id: int) -> FieldMapping:
    return get_object_or_404(FieldMapping, pk=mapping_id)


@router.patch(
    "/linkedin/mappings/{mapping_id}",
    response=schemas.MappingOut,
    operation_id="linkedin_mapping_update",
    summary="Change a question mapping",
)
def mapping_update(
    request: HttpRequest, mapping_id: int, payload: schemas.MappingPatch
) -> FieldMapping:
    require(request.user, "change", Connector)
    return services.mapping_update(
        mapping=_mapping(mapping_id), by=request.user, data=payload.dict(exclude_unset=True)
    )


@router.delete(
    "/linkedin/mappings/{mapping_id}",
    response={204: None},
    operation_id="linkedin_mapping_delete",
    summary="Delete a question mapping",
)
def mapping_delete(request: HttpRequest, mapping_id: int) -> HttpResponse:
    require(request.user, "change", Connector)
    services.mapping_delete(mapping=_mapping(mapping_id), by=request.user)
    return HttpResponse(status=204)


@router.post(
    "/linkedin/sync",
    response={202: schemas.SyncRunOut},
    operation_id="linkedin_sync_now",
    summary="Sync now: queue a pull of new form responses",
)
def sync_now(request: HttpRequest) -> Status[SyncRun]:
    """202 with the queued run; follow it at ``/linkedin/sync-runs/{id}``. 409
    ``connector_disabled`` / ``connector_not_configured`` when it cannot run."""
    require(request.user, "change", Connector)
    run = services.linkedin_sync_request(
        connector=services.connector_current(), trigger=SyncRun.Trigger.MANUAL, by=request.user
    )
    return Status(202, run)


@router.get(
    "/linkedin/sync-runs",
    response=schemas.SyncRunPage,
    operation_id="linkedin_sync_run_list",
    summary="The sync log, newest first",
)
def sync_run_list(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    require(request.user, "view", SyncRun)
    page = selectors.sync_runs_page(page=params.page, page_size=params.page_size)
    return {
        "items": page.items,
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.get(
    "/linkedin/sync-runs/{run_id}",
    response=schemas.SyncRunOut,
    operation_id="linkedin_sync_run_get",
    summary="One sync run",
)
def sync_run_get(request: HttpRequest, run_id: int) -> SyncRun:
    require(request.user, "view", SyncRun)
    return get_object_or_404(SyncRun, pk=run_id)


class ResponseQuery(PageQuery):
    outcome: str = ""


@router.get(
    "/linkedin/responses",
    response=schemas.ReceivedResponsePage,
    operation_id="linkedin_response_list",
    summary="Form responses received, with what each did",
)
def response_list(request: HttpRequest, params: Query[ResponseQuery]) -> dict[str, Any]:
    require(request.user, "view", SyncRun)
    page = selectors.received_responses_page(
        outcome=params.outcome, page=params.page, page_size=params.page_size
    )
    return {
        "items": page.items,
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
    }
