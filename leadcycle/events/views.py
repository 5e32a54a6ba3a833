"""Staff pages for events: the list (upcoming / past, with counts), create and edit, the event
page with its registrations (search, status filter, pages, CSV), walk-ins, cancellation, and
the check-in screen made for a phone at the door.

Every view checks the role with the same permissions as the API. Pages answer htmx requests
with the fragment they swap (the registrations table, a check-in row) and work without
JavaScript too.
"""

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.audit.selectors import audit_trail
from leadcycle.errors import DomainError
from leadcycle.events import selectors, services
from leadcycle.events.forms import EventForm, WalkInForm
from leadcycle.events.models import Event, Registration
from leadcycle.users.permissions import can, require

_FORM_FIELDS = list(EventForm.Meta.fields)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _event_or_404(pk: int) -> Event:
    event = selectors.event_with_counts(event_id=pk)
    if event is None:
        raise Http404("No such event.")
    return event


# Events ----------------------------------------------------------------------------------------


def event_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", Event)
    errors: dict[str, list[str]] = {}
    params = request.GET
    try:
        page = selectors.events_page(params=params)
    except ValidationError as exc:
        errors = exc.message_dict
        page = selectors.events_page(params={})
    context = {
        "page": page,
        "when": params.get("when") or "upcoming",
        "errors": errors,
        "can_add": can(request.user, "add", Event),
    }
    template = "events/_event_table.html" if _is_htmx(request) else "events/event_list.html"
    return render(request, template, context, status=400 if errors else 200)


def _render_form(request: HttpRequest, form: EventForm, event: Event | None) -> HttpResponse:
    template = "events/_event_form.html" if _is_htmx(request) else "events/event_form.html"
    return render(
        request,
        template,
        {"form": form, "record": event},
        status=422 if form.errors else 200,
    )


def _add_errors(form: EventForm, exc: ValidationError | DomainError) -> None:
    if isinstance(exc, DomainError):
        form.add_error(None, exc.message)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", Event)
    if request.method == "GET":
        return _render_form(request, EventForm(), None)
    form = EventForm(request.POST)
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in _FORM_FIELDS}
        try:
            event = services.event_create(by=request.user, data=data)
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Event “{event}” created.")
            return _done(request, reverse("events:event_detail", args=[event.pk]))
    return _render_form(request, form, None)


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", Event)
    event = get_object_or_404(Event, pk=pk)
    if request.method == "GET":
        return _render_form(request, EventForm(instance=event), event)
    # The form validates a copy, so the service still sees the values before the change.
    form = EventForm(request.POST, instance=Event.objects.get(pk=pk))
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.event_update(event=event, by=request.user, data=data)
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Event “{event}” saved.")
            return _done(request, reverse("events:event_detail", args=[pk]))
    return _render_form(request, form, event)


@require_POST
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "delete", Event)
    event = get_object_or_404(Event, pk=pk)
    try:
        services.event_delete(event=event, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("events:event_detail", pk=pk)
    messages.success(request, f"Event “{event}” deleted.")
    return redirect("events:event_list")


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "view", Event)
    event = _event_or_404(pk)
    can_view_registrations = can(request.user, "view", Registration)
    errors: dict[str, list[str]] = {}
    page = None
    if can_view_registrations:
        try:
            page = selectors.registrations_page(event=event, params=request.GET)
        except ValidationError as exc:
            errors = exc.message_dict
            page = selectors.registrations_page(event=event, params={})
    context = {
        "event": event,
        "seats": selectors.event_seats(event=event),
        "page": page,
        "errors": errors,
        "statuses": Registration.Status.choices,
        "public_url": request.build_absolute_uri(f"/e/{event.slug}/"),
        "querystring": request.GET.urlencode(),
        "can_view_registrations": can_view_registrations,
        "can_change": can(request.user, "change", Event),
        "can_delete": can(request.user, "delete", Event),
        "can_change_registrations": can(request.user, "change", Registration),
        "can_add_registrations": can(request.user, "add", Registration),
        "walk_in": WalkInForm(),
        "audit": audit_trail(instance=event),
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "registrations":
        return render(
            request, "events/_registration_table.html", context, status=400 if errors else 200
        )
    return render(request, "events/event_detail.html", context, status=400 if errors else 200)


class _Echo:
    def write(self, value: str) -> str:
        return value


def registrations_csv(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """Every registration of the event (the page's search and status filter apply)."""
    require(request.user, "view", Registration)
    event = get_object_or_404(Event, pk=pk)
    try:
        rows = selectors.registrations_csv_rows(event=event, params=request.GET)
        writer = csv.writer(_Echo())
        first = next(rows)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400, content_type="text/plain")
    lines = (writer.writerow(row) for row in _prepend(first, rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-registrations.csv"'
    return response


def _prepend(first: list[str], rest: Any) -> Any:
    yield first
    yield from rest


# Registrations ---------------------------------------------------------------------------------


@require_POST
def registration_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A walk-in or phone registration taken by staff; optionally checked in at once."""
    require(request.user, "add", Registration)
    event = get_object_or_404(Event, pk=pk)
    form = WalkInForm(request.POST)
    back = request.POST.get("next") or reverse("events:event_detail", args=[pk])
    if not back.startswith("/events/"):
        back = reverse("events:event_detail", args=[pk])
    if not form.is_valid():
        messages.error(request, _form_message(form.errors.get_json_data()))
        return redirect(back)
    data = dict(form.cleaned_data)
    check_in = data.pop("check_in")
    try:
        result = services.registration_create(
            event=event, raw=data, channel="staff", by=request.user
        )
        registration = result.registration
        if check_in and can(request.user, "change", Registration):
            registration = services.registration_check_in(
                registration=registration, by=request.user
            )
    except services.RegistrationRejected as rejected:
        messages.error(
            request,
            "; ".join(
                f"{name.replace('_', ' ')}: {e['message']}" for name, e in rejected.errors.items()
            ),
        )
        return redirect(back)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    name = registration.full_name or registration.email
    if not result.created:
        messages.warning(
            request, f"{name} was already registered ({registration.get_status_display().lower()})."
        )
    else:
        messages.success(
            request, f"{name} registered ({registration.get_status_display().lower()})."
        )
    return redirect(back)


def _form_message(errors: dict[str, Any]) -> str:
    return "; ".join(
        f"{name.replace('_', ' ')}: {' '.join(e['message'] for e in errs)}"
        for name, errs in errors.items()
    )


@require_POST
def registration_cancel(request: HttpRequest, pk: int, reg_id: int) -> HttpResponse:
    require(request.user, "change", Registration)
    registration = get_object_or_404(Registration, pk=reg_id, event_id=pk)
    try:
        services.registration_cancel(registration=registration, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Registration of {registration.full_name or registration.email} cancelled."
        )
    return redirect(reverse("events:event_detail", args=[pk]) + _query(request))


def _query(request: HttpRequest) -> str:
    keep = {k: str(request.POST[k]) for k in ("q", "status", "page", "sort") if request.POST.get(k)}
    return "?" + urlencode(keep) if keep else ""


# Check-in --------------------------------------------------------------------------------------


def _check_in_counts(event: Event) -> dict[str, Any]:
    seats = selectors.event_seats(event=event)
    return {"seats": seats}


def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """The door screen: search by name or email, one big button per person."""
    require(request.user, "view", Event)
    require(request.user, "view", Registration)
    event = get_object_or_404(Event, pk=pk)
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "event": event,
        "query": query,
        "results": selectors.registrations_for_check_in(event=event, query=query),
        "can_check_in": can(request.user, "change", Registration),
        "can_add_registrations": can(request.user, "add", Registration),
        "walk_in": WalkInForm(),
        **_check_in_counts(event),
    }
    if _is_htmx(request):
        return render(request, "events/_check_in_results.html", context)
    return render(request, "events/check_in.html", context)


def _check_in_action(request: HttpRequest, pk: int, reg_id: int, *, undo: bool) -> HttpResponse:
    require(request.user, "change", Registration)
    registration = get_object_or_404(
        Registration.objects.select_related("event"), pk=reg_id, event_id=pk
    )
    error = ""
    try:
        if undo:
            registration = services.registration_check_in_undo(
                registration=registration, by=request.user
            )
        else:
            registration = services.registration_check_in(
                registration=registration, by=request.user
            )
    except DomainError as exc:
        error = exc.message
    if _is_htmx(request):
        context = {
            "event": registration.event,
            "r": registration,
            "can_check_in": True,
            "error": error,
            "oob": True,
            **_check_in_counts(registration.event),
        }
        return render(request, "events/_check_in_row.html", context)
    if error:
        messages.error(request, error)
    else:
        who = registration.full_name or registration.email
        messages.success(request, f"Check-in of {who} undone." if undo else f"{who} checked in.")
    query = request.POST.get("q", "")
    url = reverse("events:check_in", args=[pk])
    return redirect(url + ("?" + urlencode({"q": query}) if query else ""))


@require_POST
def check_in_do(request: HttpRequest, pk: int, reg_id: int) -> HttpResponse:
    return _check_in_action(request, pk, reg_id, undo=False)


@require_POST
def check_in_undo(request: HttpRequest, pk: int, reg_id: int) -> HttpResponse:
    return _check_in_action(request, pk, reg_id, undo=True)
