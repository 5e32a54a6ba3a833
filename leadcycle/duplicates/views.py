"""Duplicate review pages: likely duplicates, compare and merge, merge history with undo.

The same permissions as the API: reviewing needs the right to view the records, merging,
undoing and marking as different the rights to change and delete them.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.crm.normalize import normalize_domain, normalize_email
from leadcycle.duplicates import rules, selectors, services
from leadcycle.duplicates.models import Entity, Merge
from leadcycle.duplicates.references import model_for
from leadcycle.errors import DomainError
from leadcycle.users.permissions import can, require

_PLURAL: dict[str, str] = {"contacts": Entity.CONTACT, "accounts": Entity.ACCOUNT}
_PLURAL_OF: dict[str, str] = {entity: plural for plural, entity in _PLURAL.items()}
PAGE_SIZE = 20


def _entity(plural: str) -> str:
    if plural not in _PLURAL:
        raise Http404
    return _PLURAL[plural]


def can_merge(user: Any, entity: str) -> bool:
    model = model_for(entity)
    return can(user, "change", model) and can(user, "delete", model)


def _require_merge(request: HttpRequest, entity: str) -> None:
    if not can_merge(request.user, entity):
        raise PermissionDenied


def _tabs(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"plural": plural, "label": plural.capitalize()}
        for plural, entity in _PLURAL.items()
        if can(request.user, "view", model_for(entity))
    ]


def review(request: HttpRequest, plural: str = "contacts") -> HttpResponse:
    """Likely duplicates, a page of groups; each links its records to the compare page."""
    entity = _entity(plural)
    require(request.user, "view", model_for(entity))
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    groups, count = selectors.duplicate_groups(entity=entity, page=page, page_size=PAGE_SIZE)
    return render(
        request,
        "duplicates/review.html",
        {
            "plural": plural,
            "entity": entity,
            "tabs": _tabs(request),
            "groups": groups,
            "count": count,
            "page": page,
            "has_next": page * PAGE_SIZE < count,
            "can_merge": can_merge(request.user, entity),
        },
    )


@require_POST
def dismiss(request: HttpRequest, plural: str) -> HttpResponse:
    """Mark a group's records as different."""
    entity = _entity(plural)
    _require_merge(request, entity)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    try:
        marked = services.not_duplicates_mark(entity=entity, ids=ids, by=request.user)
        messages.success(
            request, f"Marked as different ({marked} pair{'s' if marked != 1 else ''})."
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("duplicates:review", args=[plural]))


def _other(entity: str, text: str) -> int | None:
    """The record a person named by id, email (contacts) or web domain (accounts)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    model = model_for(entity)
    if entity == Entity.CONTACT:
        condition = Q(email_normalized=normalize_email(text))
    else:
        condition = Q(web_domain=normalize_domain(text)) & ~Q(web_domain="")
    return (
        model._default_manager.filter(condition).order_by("pk").values_list("pk", flat=True).first()
    )


def start(request: HttpRequest, plural: str, pk: int) -> HttpResponse:
    """From a record's page: its likely duplicates, and a box to name any other record."""
    entity = _entity(plural)
    model = model_for(entity)
    require(request.user, "view", model)
    record = get_object_or_404(model, pk=pk)
    error = ""
    if "other" in request.GET:
        other = _other(entity, request.GET["other"])
        if other is not None and other != pk and model._default_manager.filter(pk=other).exists():
            return redirect(reverse("duplicates:compare", args=[plural, pk, other]))
        error = "No other record by that id or address."
    likely = [(g, g.records) for g in selectors.duplicates_of(entity=entity, record=record)]
    return render(
        request,
        "duplicates/start.html",
        {
            "plural": plural,
            "entity": entity,
            "record": record,
            "likely": likely,
            "error": error,
            "other": request.GET.get("other", ""),
        },
        status=422 if error else 200,
    )


def _keep(request: HttpRequest, entity: str) -> dict[str, str]:
    return {
        name: request.POST[f"keep_{name}"]
        for name in rules.MERGEABLE[entity]
        if f"keep_{name}" in request.POST
    }


@require_http_methods(["GET", "POST"])
def compare(request: HttpRequest, plural: str, survivor_pk: int, merged_pk: int) -> HttpResponse:
    """The two records side by side: choose the value of each field that differs, see what
    moves, merge."""
    entity = _entity(plural)
    model = model_for(entity)
    require(request.user, "view", model)
    survivor = get_object_or_404(model, pk=survivor_pk)
    merged = get_object_or_404(model, pk=merged_pk)
    keep: dict[str, str] = {}
    error = ""
    status = 200
    if request.method == "POST":
        _require_merge(request, entity)
        keep = _keep(request, entity)
        try:
            done = services.record_merge(
                entity=entity,
                survivor_id=survivor.pk,
                merged_id=merged.pk,
                keep=keep,
                by=request.user,
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
        except ValidationError as exc:
            error, status = "; ".join(m for msgs in exc.message_dict.values() for m in msgs), 422
        else:
            messages.success(request, f"Merged “{done.merged_repr}” into “{survivor}”.")
            return redirect(reverse("duplicates:merge", args=[done.pk]))
    preview = selectors.merge_preview(entity=entity, survivor=survivor, merged=merged, keep=keep)
    return render(
        request,
        "duplicates/compare.html",
        {
            "plural": plural,
            "entity": entity,
            "preview": preview,
            "error": error,
            "can_merge": can_merge(request.user, entity),
        },
        status=status,
    )


def merge_list(request: HttpRequest) -> HttpResponse:
    """Every merge the user may see, newest first."""
    entities = [e for e in Entity.values if can(request.user, "view", model_for(e))]
    if not entities:
        raise PermissionDenied
    return render(
        request,
        "duplicates/merges.html",
        {"merges": selectors.merges(entities=entities), "tabs": _tabs(request)},
    )


def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One merge: what moved, what changed on the survivor, and undo."""
    merge = get_object_or_404(Merge, pk=pk)
    model = model_for(merge.entity)
    require(request.user, "view", model)
    labels = selectors.reference_labels(merge.entity)
    return render(
        request,
        "duplicates/merge.html",
        {
            "merge": merge,
            "plural": _PLURAL_OF[merge.entity],
            "survivor": model._default_manager.filter(pk=merge.survivor_id).first(),
            "merged_now": model._default_manager.filter(pk=merge.merged_id).first(),
            "moved": [(labels.get(k, k), n) for k, n in merge.moved.items()],
            "changes": [
                (
                    name,
                    selectors.readable(model, name, merge.survivor_before.get(name)),
                    selectors.readable(model, name, value),
                )
                for name, value in merge.survivor_after.items()
            ],
            "can_merge": can_merge(request.user, merge.entity),
        },
    )


@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(Merge, pk=pk)
    _require_merge(request, merge.entity)
    try:
        services.merge_undo(merge_id=merge.pk, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, "; ".join(m for msgs in exc.message_dict.values() for m in msgs))
    else:
        messages.success(request, f"Merge undone: “{merge.merged_repr}” is back.")
    return redirect(reverse("duplicates:merge", args=[merge.pk]))
