"""Workflow pages: the list (on/off at a click), one workflow's form with its run log and
webhook deliveries. Conditions and actions are edited as JSON, with the fields and action
types they may use listed beside them."""

import json
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle import expressions
from leadcycle.errors import DomainError
from leadcycle.segments.models import Segment
from leadcycle.users.permissions import can, require
from leadcycle.workflows import catalog, editor, services
from leadcycle.workflows.models import WebhookDelivery, Workflow, WorkflowRun

CONFIG_INPUTS = {
    "field_changed": ("field", str),
    "score_crossed": ("score", int),
    "stage_entered": ("stage", str),
    "interaction_recorded": ("kind", str),
    "schedule": ("every_hours", int),
}


def workflow_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", Workflow)
    context = {
        "workflows": Workflow.objects.all(),
        "can_add": can(request.user, "add", Workflow),
        "can_change": can(request.user, "change", Workflow),
        "triggers": catalog.TRIGGERS,
    }
    return render(request, "workflows/list.html", context)


def _document(post: Any) -> dict[str, Any]:
    trigger = post.get("trigger", "")
    config: dict[str, Any] = {}
    if trigger in CONFIG_INPUTS:
        name, kind = CONFIG_INPUTS[trigger]
        raw = post.get(f"config_{name}", "").strip()
        config[name] = int(raw) if kind is int and re.fullmatch(r"-?\d{1,9}", raw) else raw
    doc: dict[str, Any] = {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "entity": post.get("entity", ""),
        "trigger": trigger,
        "trigger_config": config,
    }
    for name in ("conditions", "actions"):
        text = post.get(name, "").strip() or "[]"
        try:
            doc[name] = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValidationError({name: ValidationError(f"Not valid JSON: {exc}")}) from None
    return doc


@require_http_methods(["GET", "POST"])
def workflow_edit(request: HttpRequest, workflow_id: int | None = None) -> HttpResponse:
    """The workflow as a form (conditions and actions as rows), or with ``?mode=json`` (or
    posted ``conditions`` text) as JSON. ``refresh`` redraws the form (a changed action type
    shows its inputs) without saving."""
    workflow = get_object_or_404(Workflow, pk=workflow_id) if workflow_id else None
    require(request.user, "view" if request.method == "GET" and workflow else
            ("change" if workflow else "add"), Workflow)  # fmt: skip
    as_json = request.GET.get("mode") == "json" or "conditions" in request.POST
    error, fields = "", dict[str, str]()
    doc = services.workflow_document(workflow) if workflow else {
        "name": "", "description": "", "entity": "lead", "trigger": "created",
        "trigger_config": {}, "conditions": [], "actions": [],
    }  # fmt: skip
    texts = {name: json.dumps(doc[name], indent=2) for name in ("conditions", "actions")}
    if request.method == "POST":
        try:
            if as_json:
                texts = {name: request.POST.get(name, "") for name in ("conditions", "actions")}
                posted = _document(request.POST)
            else:
                posted = editor.document_from_post(request.POST)
            doc = {**doc, **posted}
            if "refresh" in request.POST:
                raise _Redraw
            saved = services.workflow_save(workflow=workflow, by=request.user, data=posted)
        except _Redraw:
            pass
        except (ValidationError, DomainError) as exc:
            if isinstance(exc, DomainError):
                error, fields = exc.message, dict(exc.fields)
            else:
                error = "Check the fields marked below."
                fields = {k: " ".join(v) for k, v in exc.message_dict.items()}
        else:
            messages.success(request, f"Workflow “{saved}” saved.")
            return redirect(reverse("workflows:edit", args=[saved.pk]))
    condition_errors, action_errors = editor.row_errors(fields)
    context = {
        "workflow": workflow, "doc": doc, "texts": texts, "error": error, "field_errors": fields,
        "as_json": as_json, **editor.rows_for(doc),
        "condition_errors": condition_errors, "action_errors": action_errors,
        "entities": catalog.ENTITIES, "triggers": catalog.TRIGGERS, "actions": catalog.ACTIONS,
        "fields": {e: sorted(expressions.FIELDS[e]) for e in catalog.ENTITIES},
        "entity_fields": sorted(expressions.FIELDS.get(str(doc.get("entity", "")), {}).items()),
        "settable": {e: list(catalog.SETTABLE[e]) for e in catalog.ENTITIES},
        "targets": list(catalog.TARGETS),
        "settable_all": sorted({n for names in catalog.SETTABLE.values() for n in names}),
        "operators": expressions.OPERATORS.items(),
        "users": User.objects.filter(is_active=True).order_by("username"),
        "segments": Segment.objects.filter(kind="static").order_by("name"),
        "can_change": can(request.user, "change", Workflow),
        "runs": WorkflowRun.objects.filter(workflow=workflow)[:50] if workflow else [],
        "deliveries": (
            WebhookDelivery.objects.filter(run__workflow=workflow)[:20] if workflow else []
        ),
    }  # fmt: skip
    return render(request, "workflows/edit.html", context, status=422 if error else 200)


class _Redraw(Exception):
    """Show the form again with what was posted, saving nothing."""


@require_POST
def workflow_toggle(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """On (optionally for the existing records too), off, or apply to existing records now."""
    require(request.user, "change", Workflow)
    workflow = get_object_or_404(Workflow, pk=workflow_id)
    action = request.POST.get("action", "")
    if action == "enable":
        services.workflow_enable(
            workflow=workflow,
            by=request.user,
            apply_to_existing="apply_to_existing" in request.POST,
        )
        messages.success(request, f"“{workflow}” is on.")
    elif action == "disable":
        services.workflow_disable(workflow=workflow, by=request.user)
        messages.success(request, f"“{workflow}” is off.")
    elif action == "apply":
        try:
            services.workflow_apply(workflow=workflow)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Running for the existing records in the background.")
    elif action == "delete":
        require(request.user, "delete", Workflow)
        try:
            services.workflow_delete(workflow=workflow, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{workflow}” deleted.")
            return redirect(reverse("workflows:list"))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return redirect(back or reverse("workflows:list"))
