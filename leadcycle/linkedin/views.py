"""The LinkedIn connector pages: settings (secrets masked, strategy, contact creation, the
question mappings), *Sync now*, the sync log and the responses received with their outcomes.

Every view checks the role with the permissions the API uses, calls one service or selector
and renders; the pages are plain HTML forms, so they work without JavaScript.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.errors import DomainError
from leadcycle.linkedin import selectors, services
from leadcycle.linkedin.forms import ConnectorForm, MappingForm
from leadcycle.linkedin.models import Connector, FieldMapping, ReceivedResponse, SyncRun
from leadcycle.linkedin.public_api import PATH as WEBHOOK_PATH
from leadcycle.users.permissions import can, require


def _add_errors(form: forms.BaseForm, exc: ValidationError | DomainError) -> None:
    """Service errors next to the fields they name (``lead_strategy_id`` → its select)."""
    if isinstance(exc, DomainError):
        form.add_error(None, exc.message)
        return
    for name, errors in exc.message_dict.items():
        target = name.removesuffix("_id")
        form.add_error(target if target in form.fields else None, errors)


def _settings_page(
    request: HttpRequest,
    connector: Connector,
    *,
    form: ConnectorForm | None = None,
    mapping_form: MappingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_change = can(request.user, "change", Connector)
    form = form or ConnectorForm(connector=connector)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    context: dict[str, Any] = {
        "connector": connector,
        "form": form,
        "mapping_form": mapping_form or MappingForm(),
        "mappings": selectors.mappings_of(connector),
        "can_change": can_change,
        "can_view_runs": can(request.user, "view", SyncRun),
        "recent_runs": selectors.sync_runs_page(connector=connector, page_size=5).items
        if can(request.user, "view", SyncRun)
        else [],
        "access_token_masked": services.secret_masked(connector.access_token),
        "client_secret_masked": services.secret_masked(connector.client_secret),
        "webhook_url": request.build_absolute_uri(f"/api/v1/public{WEBHOOK_PATH}"),
    }
    return render(request, "linkedin/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
def connector_settings(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", Connector)
    connector = services.connector_current()
    if request.method == "GET":
        return _settings_page(request, connector)
    require(request.user, "change", Connector)
    form = ConnectorForm(request.POST, connector=connector)
    if form.is_valid():
        try:
            services.connector_update(
                connector=services.connector_current(), by=request.user, data=form.service_data()
            )
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "LinkedIn connector saved.")
            return redirect(reverse("linkedin:settings"))
    return _settings_page(request, services.connector_current(), form=form, status=422)


@require_POST
def mapping_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "change", Connector)
    connector = services.connector_current()
    form = MappingForm(request.POST)
    if form.is_valid():
        try:
            mapping = services.mapping_create(
                connector=connector, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Mapped {mapping}.")
            return redirect(reverse("linkedin:settings") + "#mappings")
    return _settings_page(request, connector, mapping_form=form, status=422)


@require_POST
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", Connector)
    mapping = get_object_or_404(FieldMapping, pk=pk)
    services.mapping_delete(mapping=mapping, by=request.user)
    messages.success(request, f"Mapping removed: {mapping}.")
    return redirect(reverse("linkedin:settings") + "#mappings")


@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    require(request.user, "change", Connector)
    try:
        run = services.linkedin_sync_request(
            connector=services.connector_current(),
            trigger=SyncRun.Trigger.MANUAL,
            by=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("linkedin:settings"))
    messages.success(request, f"Sync #{run.pk} started; it appears in the log below.")
    return redirect(reverse("linkedin:runs"))


def sync_runs(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", SyncRun)
    page = selectors.sync_runs_page(page=request.GET.get("page", 1), page_size=50)
    return render(
        request,
        "linkedin/runs.html",
        {"page": page, "can_change": can(request.user, "change", Connector)},
    )


def received_responses(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", SyncRun)
    outcome = request.GET.get("outcome", "")
    page = selectors.received_responses_page(
        outcome=outcome, page=request.GET.get("page", 1), page_size=50
    )
    return render(
        request,
        "linkedin/responses.html",
        {
            "page": page,
            "outcome": outcome if outcome in ReceivedResponse.Outcome.values else "",
            "outcomes": [
                (value, label)
                for value, label in ReceivedResponse.Outcome.choices
                if value != ReceivedResponse.Outcome.PENDING
            ],
        },
    )
