"""Public (no login, rate limited) event endpoints, mounted under /api/v1/public/.

``POST /api/v1/public/events/<slug>/registrations`` registers a person for a published event:
a JSON object with ``email``, ``first_name``, ``last_name`` and optionally ``company``,
``job_title``, ``phone``, ``country``, ``consent`` (boolean) and ``answers`` (an object of
extra answers). Registering the same person again answers 200 with their registration; send
``Idempotency-Key`` to make retries return exactly the first answer.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from leadcycle.errors import DomainError, error_response
from leadcycle.events.models import Event, Registration
from leadcycle.events.selectors import (
    event_by_slug,
    event_seats,
    registration_by_token,
    registration_open,
)
from leadcycle.events.services import (
    RegistrationRejected,
    registration_cancel,
    registration_create,
)
from leadcycle.intake.public import MAX_BODY_BYTES, body_too_large, client_ip, over_rate_limit

router = Router(tags=["public events"], auth=None)


def _too_many() -> HttpResponse:
    response = error_response(429, "rate_limited", "Too many requests; retry in a minute.")
    response["Retry-After"] = "60"
    return response


def _not_found(slug: str) -> HttpResponse:
    return error_response(404, "event_not_found", f"No published event {slug!r}.")


def _message(registration: Registration, created: bool) -> str:
    if not created:
        return "You are already registered for this event."
    if registration.status == Registration.Status.WAITLISTED:
        return "The event is full: you are on the waitlist and move up when a seat frees up."
    return "You are registered. See you there!"


@router.get("/events/{slug}", summary="A published event and its free seats")
def event_public(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_by_slug(slug)
    if event is None:
        return _not_found(slug)
    seats = event_seats(event=event)
    return JsonResponse(
        {
            "name": event.name,
            "description": event.description,
            "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(),
            "location": event.location,
            "seats_left": seats.left,
            "waitlist_enabled": event.waitlist_enabled,
            "open": registration_open(event=event),
            "requires_email": event.registrant_matching != Event.Matching.NAME,
        }
    )


@router.post(
    "/events/{slug}/registrations",
    summary="Register for an event",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "email": {"type": "string"},
                            "first_name": {"type": "string"},
                            "last_name": {"type": "string"},
                            "company": {"type": "string"},
                            "job_title": {"type": "string"},
                            "phone": {"type": "string"},
                            "country": {"type": "string"},
                            "consent": {"type": "boolean"},
                            "answers": {"type": "object"},
                        },
                        "example": {
                            "email": "ada@example.com",
                            "first_name": "Ada",
                            "last_name": "Lovelace",
                            "company": "Analytical Engines",
                            "consent": True,
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def registration_public_create(request: HttpRequest, slug: str) -> HttpResponse:
    """201 with the registration id, its status (``registered`` or ``waitlisted``) and the
    cancellation link; 200 when the person was registered already (without the link, unless
    the request repeats an ``Idempotency-Key``); 422 naming each invalid field; 404 unknown or
    unpublished event; 409 ``event_full`` / ``registration_closed``; 413 body over 64 KB;
    429 over the rate limit."""
    event = event_by_slug(slug)
    if event is None:
        return _not_found(slug)
    if body_too_large(request) or len(request.body) > MAX_BODY_BYTES:
        return error_response(413, "too_large", "The body may be at most 64 KB.")
    if over_rate_limit(request, f"event:{event.pk}"):
        return _too_many()
    try:
        raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(raw, dict):
        return error_response(
            422,
            "validation_error",
            "Send a JSON object.",
            {"body": {"code": "invalid_type", "message": "Expected an object."}},
        )
    try:
        result = registration_create(
            event=event,
            raw=raw,
            channel="api",
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
        )
    except RegistrationRejected as rejected:
        if rejected.spam:
            return JsonResponse({"registration_id": None, "status": "received"}, status=202)
        first = next(iter(rejected.errors))
        return error_response(
            422,
            "validation_error",
            f"{first}: {rejected.errors[first]['message']}",
            rejected.errors,
        )
    except DomainError as refused:
        return error_response(refused.status, refused.code, refused.message)
    registration = result.registration
    body: dict[str, Any] = {
        "registration_id": registration.pk,
        "status": registration.status,
        "created": result.created,
        "message": _message(registration, result.created or result.replayed),
    }
    # The cancellation link goes only to whoever made the registration: not to someone who
    # merely knows a registrant's email.
    if result.created or result.replayed:
        body["cancel_url"] = request.build_absolute_uri(f"/e/cancel/{registration.cancel_token}/")
    return JsonResponse(body, status=201 if result.created else 200)


@router.post("/event-registrations/{token}/cancel", summary="Cancel a registration by its link")
def registration_public_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The token is the secret of the cancellation link. 200 with the cancelled registration;
    404 unknown token; 409 ``registration_checked_in``."""
    if over_rate_limit(request, "event-cancel"):
        return _too_many()
    registration = registration_by_token(token)
    if registration is None:
        return error_response(404, "not_found", "No registration with this link.")
    try:
        registration = registration_cancel(registration=registration)
    except DomainError as refused:
        return error_response(refused.status, refused.code, refused.message)
    return JsonResponse({"registration_id": registration.pk, "status": registration.status})
