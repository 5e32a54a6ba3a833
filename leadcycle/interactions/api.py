"""Staff endpoints for interactions: list and read (with the CRM's list filters), record one
or a batch of up to 10,000 (idempotent per event key), custom kinds, and tracked email links.

Recording needs ``add`` on interactions (marketers, administrators); custom kinds are
registered by administrators.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from leadcycle.crm.api import Resource, resource_register
from leadcycle.crm.models import Interaction
from leadcycle.crm.schemas import InteractionOut
from leadcycle.crm.selectors import INTERACTION_LIST
from leadcycle.errors import error_response
from leadcycle.interactions import schemas, selectors, services
from leadcycle.interactions.models import InteractionKind
from leadcycle.users.permissions import require

router = Router(tags=["interactions"])


@router.post(
    "/interactions",
    response={201: InteractionOut, 200: InteractionOut},
    operation_id="interaction_create",
    summary="Record one interaction",
)
def interaction_create(request: HttpRequest, payload: schemas.InteractionIn) -> Any:
    """201 with the new interaction; 200 with the first one when ``idempotency_key`` was
    recorded before; 422 naming the field at fault (``unknown_kind``, ``unknown_contact``…)."""
    require(request.user, "add", Interaction)
    result = services.interactions_ingest(events=[payload.dict(exclude_none=True)])
    if result.errors:
        error = result.errors[0]
        return error_response(
            422,
            "validation_error",
            f"{error.field}: {error.message}",
            {error.field: {"code": error.code, "message": error.message}},
        )
    if result.created:
        return Status(201, Interaction.objects.get(pk=result.created_ids[0]))
    return Status(200, Interaction.objects.get(idempotency_key=payload.idempotency_key))


@router.post(
    "/interactions/batch",
    response=schemas.BatchOut,
    operation_id="interaction_batch",
    summary="Record a batch of interactions",
)
def interaction_batch(request: HttpRequest, payload: schemas.BatchIn) -> dict[str, Any]:
    """Every event is checked on its own: the good ones are recorded, each bad one is listed
    under ``errors`` with its index, field and reason. Events whose ``idempotency_key`` was
    recorded before are counted under ``duplicates``. 413 over 10,000 events."""
    require(request.user, "add", Interaction)
    result = services.interactions_ingest(events=payload.events)
    return {
        "created": len(result.created),
        "duplicates": len(result.duplicates),
        "rejected": len(result.rejected),
        "duplicate_indexes": result.duplicates,
        "errors": result.errors,
    }


@router.get(
    "/interaction-kinds",
    response=list[schemas.InteractionKindOut],
    operation_id="interaction_kind_list",
    summary="List interaction kinds",
)
def interaction_kind_list(request: HttpRequest) -> list[dict[str, object]]:
    """The built-in kinds and the custom ones, with how often each custom kind was recorded."""
    require(request.user, "view", InteractionKind)
    return selectors.kind_rows()


@router.post(
    "/interaction-kinds",
    response={201: schemas.InteractionKindOut},
    operation_id="interaction_kind_create",
    summary="Register a custom interaction kind",
)
def interaction_kind_create(
    request: HttpRequest, payload: schemas.InteractionKindIn
) -> Status[dict[str, object]]:
    require(request.user, "add", InteractionKind)
    kind = services.interaction_kind_create(by=request.user, data=payload.dict())
    return Status(
        201,
        {
            "key": kind.key,
            "label": kind.label,
            "description": kind.description,
            "builtin": False,
            "count": 0,
        },
    )


@router.delete(
    "/interaction-kinds/{key}",
    response={204: None},
    operation_id="interaction_kind_delete",
    summary="Remove an unused custom kind",
)
def interaction_kind_delete(request: HttpRequest, key: str) -> HttpResponse:
    require(request.user, "delete", InteractionKind)
    services.interaction_kind_delete(
        kind=get_object_or_404(InteractionKind, key=key), by=request.user
    )
    return HttpResponse(status=204)


@router.post(
    "/tracking/links",
    response={201: schemas.TrackedLinksOut},
    operation_id="tracked_links_create",
    summary="Tracked click and open-pixel URLs for one email",
)
def tracked_links_create(
    request: HttpRequest, payload: schemas.TrackedLinksIn
) -> Status[dict[str, str]]:
    """Put ``click_url`` in place of the link and ``open_pixel_url`` as a 1x1 image in the
    email to that contact: opening and clicking record ``email_opened`` and ``email_clicked``."""
    require(request.user, "add", Interaction)
    links = services.tracked_links(**payload.dict())
    return Status(
        201,
        {
            "click_url": request.build_absolute_uri(links.click_path),
            "open_pixel_url": request.build_absolute_uri(links.open_path),
        },
    )


# List, read and audit trail: the same endpoints as every CRM record.
resource_register(
    Resource("interactions", Interaction, INTERACTION_LIST, InteractionOut), on=router
)
