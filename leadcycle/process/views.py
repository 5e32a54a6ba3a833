"""Business process pages: the process bar on the lead page (htmx, and plain forms without
JavaScript), qualification, the queues, and process administration."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.crm.models import Lead
from leadcycle.errors import DomainError
from leadcycle.process import admin_services, qualify, selectors, services
from leadcycle.process.models import Process, ProcessInstance, ProcessSettings
from leadcycle.process.steps import STEPS
from leadcycle.users.permissions import can, require

QUEUE_TITLES = {"telemarketing": "Telemarketing queue", "sales": "Sales queue"}


def _int(raw: str) -> int | None:
    """A posted id: ASCII digits only (``"²".isdigit()`` is true, ``int("²")`` fails)."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdecimal() else None


def _errors(exc: ValidationError | DomainError) -> tuple[str, dict[str, str]]:
    if isinstance(exc, DomainError):
        return exc.message, dict(exc.fields)
    if hasattr(exc, "error_dict"):
        fields = {name: " ".join(errors) for name, errors in exc.message_dict.items()}
        return "Check the fields marked below.", fields
    return " ".join(exc.messages), {}


def bar_context(
    request: HttpRequest,
    lead: Lead,
    *,
    stage: str | None = None,
    posted: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The bar's context: the process, the stage whose fields are open (``stage``, else
    ``?stage=``; default the current one), and what the user may do. ``posted``: values typed
    into a refused form, shown again instead of the stored ones."""
    state = selectors.lead_process(lead)
    wanted = stage if stage is not None else request.GET.get("stage") or request.POST.get("stage")
    open_stage = next(
        (s for s in state["stages"] if str(s["id"]) == str(wanted)),
        next(s for s in state["stages"] if s["state"] == "current"),
    )
    for item in open_stage["fields"] if posted else ():
        if item["name"] in posted:  # type: ignore[operator]
            item["value"] = posted[item["name"]]  # type: ignore[index]
    return {
        "lead": lead,
        "p": state,
        "open_stage": open_stage,
        "can_move": can(request.user, "change", Lead) and lead.status == Lead.Status.OPEN,
        # Assigning a seller and accepting are a sales manager's steps (SPEC §6).
        "can_accept": can(request.user, "accept", ProcessInstance),
        "can_change_lead": can(request.user, "change", Lead),
        "users": User.objects.filter(is_active=True).order_by("username"),
        "processes": Process.objects.all(),
        "reasons": qualify.DISQUALIFY_REASONS.items(),
        **extra,
    }


def lead_bar(request: HttpRequest, lead_id: int) -> HttpResponse:
    """htmx: the bar with another stage's fields open."""
    require(request.user, "view", Lead)
    lead = get_object_or_404(Lead, pk=lead_id)
    return render(request, "process/_bar.html", bar_context(request, lead))


def _posted_steps(request: HttpRequest, *, changed_only: bool = True) -> dict[str, Any]:
    """The bar's fields as posted. Only those the user changed from what the bar showed
    (``was_<name>``): saving a bar loaded before someone else's change keeps that change."""
    values: dict[str, Any] = {}
    for name in request.POST.getlist("fields"):
        step = STEPS.get(name)
        if step is None:
            values[name] = request.POST.get(name)
            continue
        raw = request.POST.get(name, "")
        was = request.POST.get(f"was_{name}")
        if step.kind == "boolean":
            value: Any = name in request.POST
            shown: Any = was == "1"
        elif step.kind in ("contact", "account", "user"):
            raw = raw.strip()
            number = _int(raw)
            value = number if number is not None else (raw or None)
            shown = _int(was or "")
        else:
            value, shown = raw, was
        if changed_only and was is not None and value == shown:
            continue
        values[name] = value
    return values


@require_POST
def lead_act(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Every button of the bar: save the open stage's fields, next stage, move to the open
    stage, switch process, disqualify, reactivate."""
    require(request.user, "change", Lead)
    lead = get_object_or_404(Lead, pk=lead_id)
    action = request.POST.get("action", "save")
    before = services.instance_for(lead).stage_id
    error, fields = "", dict[str, str]()
    try:
        if action == "save":
            services.steps_set(lead=lead, by=request.user, values=_posted_steps(request))
        elif action == "next":
            # One transaction: a refused move keeps nothing (the form shows what was typed).
            with transaction.atomic():
                if request.POST.getlist("fields"):
                    services.steps_set(lead=lead, by=request.user, values=_posted_steps(request))
                if services.instance_for(lead).stage_id == before:  # the rules did not move it
                    services.stage_next(lead=lead, by=request.user)
        elif action == "move":
            stage = _int(request.POST.get("stage", ""))
            services.stage_move(lead=lead, by=request.user, stage_id=-1 if stage is None else stage)
        elif action == "switch":
            process = _int(request.POST.get("process", ""))
            services.process_switch(
                lead=lead, by=request.user, process_id=-1 if process is None else process
            )
        elif action == "disqualify":
            qualify.lead_disqualify(
                lead=lead,
                by=request.user,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
        elif action == "reactivate":
            qualify.lead_reactivate(lead=lead, by=request.user)
        else:
            error = f"Unknown action {action!r}."
    except (ValidationError, DomainError) as exc:
        error, fields = _errors(exc)
    lead.refresh_from_db()
    if request.headers.get("HX-Request"):
        # After a move (by hand or by the rules) the new stage's fields are the ones to show.
        moved = services.instance_for(lead).stage_id != before
        context = bar_context(
            request, lead, stage="" if moved else None, error=error, field_errors=fields,
            posted=_posted_steps(request, changed_only=False) if error else None,
        )  # fmt: skip
        response = render(request, "process/_bar.html", context)
        if action in ("disqualify", "reactivate") and not error:
            response["HX-Refresh"] = "true"  # the status shows in the page head too
        return response
    if error:
        messages.error(request, error + "".join(f" {k}: {v}" for k, v in fields.items()))
    return redirect(reverse("crm:lead_detail", args=[lead.pk]) + "#process-bar")


def _qualify_data(request: HttpRequest) -> dict[str, Any]:
    post = request.POST

    def flag(name: str) -> bool:
        return name in post

    def link(name: str) -> int | None:
        return _int(post.get(name, ""))

    contact = {
        k: post.get(f"contact_{k}", "").strip() for k in ("first_name", "last_name", "email")
    }
    account = {k: post.get(f"account_{k}", "").strip() for k in ("name", "web_domain")}
    value = post.get("value", "").strip()
    return {
        "create_contact": flag("create_contact"),
        "create_account": flag("create_account"),
        "create_opportunity": flag("create_opportunity"),
        "contact": {k: v for k, v in contact.items() if v} or None,
        "account": {k: v for k, v in account.items() if v} or None,
        "link_contact_id": link("link_contact_id"),
        "link_account_id": link("link_account_id"),
        "create_anyway": flag("create_anyway"),
        "opportunity": {"value": value} if value else None,
    }


@require_http_methods(["GET", "POST"])
def lead_qualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    require(request.user, "change", Lead)
    lead = get_object_or_404(
        Lead.objects.select_related("parent_contact", "parent_account"), pk=lead_id
    )
    settings = services.process_settings()
    data: dict[str, Any] = {
        "create_contact": settings.create_contact,
        "create_account": settings.create_account,
        "create_opportunity": settings.create_opportunity,
    }
    error, fields = "", dict[str, str]()
    duplicates = qualify.Duplicates()
    if request.method == "POST":
        data = _qualify_data(request)
        if not settings.ask_each_time:
            data.update(create_contact=None, create_account=None, create_opportunity=None)
        try:
            done = qualify.lead_qualify(lead=lead, by=request.user, data=data)
        except (ValidationError, DomainError) as exc:
            error, fields = _errors(exc)
            duplicates = qualify.duplicates_for(lead=lead, data=data)
        else:
            messages.success(request, "Lead qualified.")
            if done.opportunity is not None:
                return redirect(reverse("crm:opportunity_detail", args=[done.opportunity.pk]))
            return redirect(reverse("crm:lead_detail", args=[lead.pk]))
    context = {
        "lead": lead,
        "data": data,
        "post": request.POST,
        "settings": settings,
        "error": error,
        "field_errors": fields,
        "duplicates": duplicates,
    }
    return render(request, "process/qualify.html", context, status=422 if error else 200)


def queue_page(request: HttpRequest, name: str) -> HttpResponse:
    require(request.user, "view", Lead)
    if name not in QUEUE_TITLES:
        raise Http404("No such queue.")
    mine = request.GET.get("mine") == "1"
    unaccepted = request.GET.get("unaccepted") == "1"
    owner = request.user if mine and isinstance(request.user, User) else None
    items = selectors.queue(name, owner=owner, unaccepted=unaccepted)
    context = {"name": name, "title": QUEUE_TITLES[name], "items": items, "mine": mine,
               "unaccepted": unaccepted}  # fmt: skip
    return render(request, "process/queue.html", context)


SETTINGS_FIELDS = ("create_account", "create_contact", "create_opportunity", "ask_each_time")


def process_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", Process)
    processes = Process.objects.prefetch_related("stages")
    context = {
        "processes": processes,
        "can_add": can(request.user, "add", Process),
        "settings": services.process_settings(),
        "can_change_settings": can(request.user, "change", ProcessSettings),
    }
    return render(request, "process/list.html", context)


@require_POST
def settings_update(request: HttpRequest) -> HttpResponse:
    """What qualifying creates by default, and whether users may choose each time."""
    require(request.user, "change", ProcessSettings)
    settings = services.process_settings()
    for name in SETTINGS_FIELDS:
        setattr(settings, name, name in request.POST)
    settings.save()
    messages.success(request, "Qualification settings saved.")
    return redirect(reverse("process:list"))


@require_POST
def process_copy(request: HttpRequest, process_id: int) -> HttpResponse:
    require(request.user, "add", Process)
    source = get_object_or_404(Process, pk=process_id)
    copy = admin_services.process_copy(process=source, by=request.user)
    messages.success(request, f"Copied into “{copy}”: edit it below.")
    return redirect(reverse("process:edit", args=[copy.pk]))


@require_http_methods(["GET", "POST"])
def process_edit(request: HttpRequest, process_id: int | None = None) -> HttpResponse:
    """The process designer (stages, their fields, the rules), or, with ``?mode=json`` (or a
    posted ``document``), the process as one JSON document."""
    process = get_object_or_404(Process, pk=process_id) if process_id else None
    if process is not None and request.method == "GET" and not can(request.user, "change", Process):
        return process_view(request, process)
    require(request.user, "change" if process else "add", Process)
    from leadcycle.process.defaults import STAGES
    from leadcycle.process.designer import document_from_post, rows_for
    from leadcycle.process.steps import TRIGGERS

    if process is not None:
        document: Any = admin_services.process_document(process)
    else:
        document = {"name": "", "description": "", "is_default": False,
                    "stages": [{"key": key, "name": name, "queue": queue, "creates_task": task,
                                "fields": []} for key, name, queue, task, _ in STAGES[:1]],
                    "transitions": []}  # fmt: skip
    as_json = request.GET.get("mode") == "json" or "document" in request.POST
    text = json.dumps(document, indent=2)
    error, fields = "", dict[str, str]()
    if request.method == "POST":
        if as_json:
            text = request.POST.get("document", "")
            try:
                document = json.loads(text)
            except (ValueError, RecursionError) as exc:  # nested past Python's limit: not JSON
                error = f"Not valid JSON: {exc}"
        else:
            document = document_from_post(request.POST)
        if not error:
            try:
                saved = admin_services.process_save(process=process, by=request.user, data=document)
            except (ValidationError, DomainError) as exc:
                error, fields = _errors(exc)
            else:
                messages.success(request, f"Process “{saved}” saved (version {saved.version}).")
                return redirect(reverse("process:edit", args=[saved.pk]))
    context: dict[str, Any] = {"process": process, "error": error, "field_errors": fields,
                               "steps": STEPS, "triggers": TRIGGERS}  # fmt: skip
    status = 422 if error else 200
    if as_json:
        return render(request, "process/edit.html", {**context, "text": text}, status=status)
    if not isinstance(document, dict):
        document = {}
    context.update(doc=document, **rows_for(document))
    return render(request, "process/designer.html", context, status=status)


def process_view(request: HttpRequest, process: Process) -> HttpResponse:
    """The process read-only: its stages with their fields, and its rules."""
    require(request.user, "view", Process)
    from leadcycle.process.steps import TRIGGERS

    document = admin_services.process_document(process)
    names = {stage["key"]: stage["name"] for stage in document["stages"]}
    rules = [
        {"name": rule["name"], "trigger": TRIGGERS.get(rule["trigger"], rule["trigger"]),
         "from": [names[key] for key in rule["from"]], "to": names[rule["to"]]}
        for rule in document["transitions"]
    ]  # fmt: skip
    context = {"process": process, "doc": document, "rules": rules, "steps": STEPS}
    return render(request, "process/detail.html", context)
