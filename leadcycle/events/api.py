"""Staff endpoints for events: CRUD, registrations, walk-ins, check-in (and undo), cancel.

Marketers and administrators manage events; telemarketers (the check-in desk) see them and
check people in; sales managers read. Every refusal is a 403 in the API's error shape.
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from leadcycle.errors import error_response
from leadcycle.events import schemas, selectors, services
from leadcycle.events.models import Event, Registration
from leadcycle.users.permissions import require

router = Router(tags=["events"])


def _page(page: Any) -> dict[str, Any]:
    return {
        "items": page.items,
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
    }


def _event(event_id: int) -> Event:
    event = selectors.event_with_counts(event_id=event_id)
    if event is None:
        raise Http404(f"No event with id {event_id}.")
    return event


def _registration(event_id: int, registration_id: int) -> Registration:
    return get_object_or_404(Registration, pk=registration_id, event_id=event_id)


@router.get("/events", response=schemas.EventPage, operation_id="event_list", summary="List events")
def event_list(request: HttpRequest, filters: Query[schemas.EventListQuery]) -> dict[str, Any]:
    """``when``: upcoming (default, soonest first), past (latest first) or all; with each
    event's registered, waitlisted, checked-in and cancelled counts."""
    require(request.user, "view", Event)
    params = {k: v for k, v in filters.dict().items() if v is not None}
    return _page(selectors.events_page(params=params))


@router.post(
    "/events",
    response={201: schemas.EventOut},
    operation_id="event_create",
    summary="Create an event",
)
def event_create(request: HttpRequest, payload: schemas.EventIn) -> Status[Event]:
    require(request.user, "add", Event)
    event = services.event_create(by=request.user, data=payload.dict())
    return Status(201, _event(event.pk))


@router.get(
    "/events/{event_id}",
    response=schemas.EventOut,
    operation_id="event_get",
    summary="Get one event",
)
def event_get(request: HttpRequest, event_id: int) -> Event:
    require(request.user, "view", Event)
    return _event(event_id)


@router.patch(
    "/events/{event_id}",
    response=schemas.EventOut,
    operation_id="event_update",
    summary="Change an event",
)
def event_update(request: HttpRequest, event_id: int, payload: schemas.EventPatch) -> Event:
    """More seats promote waitlisted registrants, oldest first."""
    require(request.user, "change", Event)
    event = get_object_or_404(Event, pk=event_id)
    services.event_update(event=event, by=request.user, data=payload.dict(exclude_unset=True))
    return _event(event_id)


@router.delete(
    "/events/{event_id}",
    response={204: None},
    operation_id="event_delete",
    summary="Delete an event without registrations",
)
def event_delete(request: HttpRequest, event_id: int) -> HttpResponse:
    require(request.user, "delete", Event)
    services.event_delete(event=get_object_or_404(Event, pk=event_id), by=request.user)
    return HttpResponse(status=204)


@router.get(
    "/events/{event_id}/registrations",
    response=schemas.RegistrationPage,
    operation_id="registration_list",
    summary="List an event's registrations",
)
def registration_list(
    request: HttpRequest, event_id: int, filters: Query[schemas.RegistrationListQuery]
) -> dict[str, Any]:
    require(request.user, "view", Registration)
    event = get_object_or_404(Event, pk=event_id)
    params = {k: v for k, v in filters.dict().items() if v is not None}
    return _page(selectors.registrations_page(event=event, params=params))


@router.post(
    "/events/{event_id}/registrations",
    response={200: schemas.StaffRegistrationOut, 201: schemas.StaffRegistrationOut},
    operation_id="registration_create",
    summary="Register a person (staff: walk-ins, phone registrations)",
)
def registration_create(
    request: HttpRequest, event_id: int, payload: schemas.StaffRegistrationIn
) -> Any:
    """The same matching, seats, lead and interaction as the public form; also after the
    event. 201 for a new registration, 200 when the person was registered already.
    ``check_in: true`` checks a walk-in in at once."""
    require(request.user, "add", Registration)
    raw = payload.dict(exclude={"check_in"})
    if payload.check_in:
        require(request.user, "change", Registration)
    event = get_object_or_404(Event, pk=event_id)
    try:
        result = services.registration_create(
            event=event, raw=raw, channel="staff", by=request.user
        )
    except services.RegistrationRejected as rejected:
        return _rejected(rejected)
    registration = result.registration
    if payload.check_in:
        registration = services.registration_check_in(registration=registration, by=request.user)
    out = schemas.RegistrationOut.from_orm(registration).dict()
    return Status(201 if result.created else 200, {**out, "created": result.created})


def _rejected(rejected: "services.RegistrationRejected") -> HttpResponse:
    first = next(iter(rejected.errors))
    return error_response(
        422, "validation_error", f"{first}: {rejected.errors[first]['message']}", rejected.errors
    )


@router.get(
    "/events/{event_id}/registrations/{registration_id}",
    response=schemas.RegistrationOut,
    operation_id="registration_get",
    summary="Get one registration",
)
def registration_get(request: HttpRequest, event_id: int, registration_id: int) -> Registration:
    require(request.user, "view", Registration)
    return _registration(event_id, registration_id)


@router.post(
    "/events/{event_id}/registrations/{registration_id}/check-in",
    response=schemas.RegistrationOut,
    operation_id="registration_check_in",
    summary="Check a registered person in",
)
def registration_check_in(
    request: HttpRequest, event_id: int, registration_id: int
) -> Registration:
    """Records ``event_checked_in``; checking in twice records one check-in. 409
    ``registration_waitlisted`` / ``registration_cancelled`` for people without a seat."""
    require(request.user, "change", Registration)
    return services.registration_check_in(
        registration=_registration(event_id, registration_id), by=request.user
    )


@router.post(
    "/events/{event_id}/registrations/{registration_id}/check-in/undo",
    response=schemas.RegistrationOut,
    operation_id="registration_check_in_undo",
    summary="Take back a check-in made by mistake",
)
def registration_check_in_undo(
    request: HttpRequest, event_id: int, registration_id: int
) -> Registration:
    require(request.user, "change", Registration)
    return services.registration_check_in_undo(
        registration=_registration(event_id, registration_id), by=request.user
    )


@router.post(
    "/events/{event_id}/registrations/{registration_id}/cancel",
    response=schemas.RegistrationOut,
    operation_id="registration_cancel",
    summary="Cancel a registration",
)
def registration_cancel(request: HttpRequest, event_id: int, registration_id: int) -> Registration:
    """Records ``event_cancelled``; the freed seat goes to the oldest waitlisted registrant.
    409 ``registration_checked_in`` after a check-in."""
    require(request.user, "change", Registration)
    return services.registration_cancel(
        registration=_registration(event_id, registration_id), by=request.user
    )
