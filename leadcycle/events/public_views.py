"""The public event pages under /e/: registration (``/e/<slug>/``) and cancellation
(``/e/cancel/<token>/``). Plain HTML forms that work without JavaScript."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leadcycle.errors import DomainError
from leadcycle.events.models import Event, Registration
from leadcycle.events.selectors import (
    event_by_slug,
    event_seats,
    registration_by_token,
    registration_open,
)
from leadcycle.events.services import (
    HONEYPOT_FIELD,
    RegistrationRejected,
    registration_cancel,
    registration_create,
    required_fields,
)
from leadcycle.intake.public import body_too_large, client_ip, over_rate_limit
from leadcycle.intake.visitors import remember_visitor

# What the page asks, in order: (field, label, input type, autocomplete).
PAGE_FIELDS = (
    ("first_name", "First name", "text", "given-name"),
    ("last_name", "Last name", "text", "family-name"),
    ("email", "Email", "email", "email"),
    ("company", "Company", "text", "organization"),
    ("job_title", "Job title", "text", "organization-title"),
)


def _context(event: Event, **extra: Any) -> dict[str, Any]:
    required = required_fields(event)
    return {
        "event": event,
        "seats": event_seats(event=event),
        "open": registration_open(event=event),
        "questions": [
            {
                "key": key,
                "label": label,
                "type": kind,
                "autocomplete": auto,
                "required": key in required,
            }
            for key, label, kind, auto in PAGE_FIELDS
        ],
        "honeypot": HONEYPOT_FIELD,
        "values": {},
        "errors": {},
        **extra,
    }


def _message(request: HttpRequest, event: Event, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "events/public/message.html",
        {"event": event, "message": message},
        status=status,
    )


# Visitors post here from cached pages; the registration uses no session privilege, so CSRF
# protection would only turn stale pages into errors. Abuse is handled by the rate limit, the
# bot trap and the size limit (as on the hosted forms).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def event_page(request: HttpRequest, slug: str) -> HttpResponse:
    event = event_by_slug(slug)
    if event is None:
        raise Http404("No such event.")
    if request.method == "GET":
        return render(request, "events/public/event.html", _context(event))
    if body_too_large(request):
        return _message(request, event, "That registration is too large.", 413)
    if over_rate_limit(request, f"event:{event.pk}"):
        response = _message(
            request,
            event,
            "Too many registrations from your address. Please wait a minute and try again.",
            429,
        )
        response["Retry-After"] = "60"
        return response
    raw: dict[str, Any] = {
        key: request.POST.get(key, "") for key, *_ in PAGE_FIELDS if key in request.POST
    }
    raw["consent"] = request.POST.get("consent") == "on"
    if request.POST.get(HONEYPOT_FIELD):
        raw[HONEYPOT_FIELD] = request.POST[HONEYPOT_FIELD]
    try:
        result = registration_create(
            event=event,
            raw=raw,
            channel="page",
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except RegistrationRejected as rejected:
        if rejected.spam:
            return render(request, "events/public/thanks.html", {"event": event})
        context = _context(event, values=raw, errors=rejected.errors)
        return render(request, "events/public/event.html", context, status=422)
    except DomainError as refused:
        context = _context(event, values=raw, refusal=refused.message)
        return render(request, "events/public/event.html", context, status=refused.status)
    registration = result.registration
    context = {"event": event, "registration": registration, "created": result.created}
    if result.created:
        # Only whoever registered gets the link (not someone who knows a registrant's email).
        context["cancel_url"] = request.build_absolute_uri(
            f"/e/cancel/{registration.cancel_token}/"
        )
    response = render(request, "events/public/thanks.html", context)
    if result.created and registration.contact_id:
        remember_visitor(response, registration.contact_id)
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cancel_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm; POST cancels. The token in the link is the only credential."""
    registration = registration_by_token(token)
    if registration is None:
        raise Http404("No registration with this link.")
    event = registration.event
    context: dict[str, Any] = {"event": event, "registration": registration}
    if request.method == "POST":
        if over_rate_limit(request, "event-cancel"):
            response = _message(request, event, "Too many requests. Please wait a minute.", 429)
            response["Retry-After"] = "60"
            return response
        try:
            registration = registration_cancel(registration=registration)
        except DomainError as refused:
            return _message(request, event, refused.message, refused.status)
        context.update(registration=registration, just_cancelled=True)
    context["cancellable"] = registration.status in (
        Registration.Status.REGISTERED,
        Registration.Status.WAITLISTED,
    )
    return render(request, "events/public/cancel.html", context)
