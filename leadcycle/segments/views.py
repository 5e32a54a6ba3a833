"""Staff pages for segments: the list, a segment's members (with CSV export), its history
and refresh, and an editor whose query shows its member count as you type."""

import csv
import io
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.errors import DomainError
from leadcycle.segments import selectors, services
from leadcycle.segments.models import Segment, SegmentMember
from leadcycle.segments.schemas import CONTOSO_EXAMPLE
from leadcycle.users.permissions import can, require


def _errors(exc: ValidationError | DomainError) -> dict[str, str]:
    if isinstance(exc, DomainError):
        return {"segment": exc.message}
    if hasattr(exc, "error_dict"):
        return {k: " ".join(e.messages) for k, errs in exc.error_dict.items() for e in errs[:1]}
    return {"segment": " ".join(exc.messages)}


def segment_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", Segment)
    context = {"segments": Segment.objects.all(), "can_add": can(request.user, "add", Segment)}
    return render(request, "segments/list.html", context)


def _form_data(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "kind": request.POST.get("kind", "dynamic"),
    }
    errors: dict[str, str] = {}
    text = request.POST.get("query", "").strip()
    if data["kind"] == "dynamic":
        try:
            data["query"] = json.loads(text) if text else None
        except ValueError as exc:
            errors["query"] = f"Not valid JSON: {exc}"
    return data, errors


@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    record = get_object_or_404(Segment, pk=pk) if pk else None
    require(request.user, "change" if record else "add", Segment)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": record.name if record else "",
        "description": record.description if record else "",
        "kind": record.kind if record else "dynamic",
        "query": json.dumps(record.query if record else CONTOSO_EXAMPLE, indent=2),
    }
    if request.method == "POST":
        data, errors = _form_data(request)
        values.update(
            {k: request.POST.get(k, "") for k in ("name", "description", "kind", "query")}
        )
        if not errors:
            try:
                if record is None:
                    record = services.segment_create(by=request.user, data=data)
                else:
                    services.segment_update(segment=record, by=request.user, data=data)
            except (ValidationError, DomainError) as exc:
                errors = _errors(exc)
            else:
                messages.success(request, f"Segment “{record}” saved.")
                return redirect(reverse("segments:detail", args=[record.pk]))
    context = {"record": record, "values": values, "errors": errors}
    return render(request, "segments/edit.html", context, status=422 if errors else 200)


@require_POST
def segment_count(request: HttpRequest) -> HttpResponse:
    """htmx, while editing: how many contacts the query finds now, or what is wrong with it."""
    require(request.user, "view", Segment)
    context: dict[str, Any] = {}
    try:
        context["count"] = services.preview_count(
            query=json.loads(request.POST.get("query") or "{}")
        )
    except ValueError as exc:
        context["errors"] = {"query": f"Not valid JSON: {exc}"}
    except ValidationError as exc:
        context["errors"] = _errors(exc)
    return render(request, "segments/_count.html", context)


def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "view", Segment)
    record = get_object_or_404(Segment, pk=pk)
    offset = max(0, int(request.GET.get("offset", "0") or 0))
    context = {
        "record": record,
        "page": selectors.members_page(segment=record, offset=offset, limit=50),
        "offset": offset,
        "changes": selectors.recent_changes(segment=record, limit=20),
        "query": json.dumps(record.query, indent=2) if record.query else "",
        "can_change": can(request.user, "change", Segment),
    }
    return render(request, "segments/detail.html", context)


@require_POST
def segment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require(request.user, "change", Segment)
    record = get_object_or_404(Segment, pk=pk)
    try:
        if action == "go-live":
            services.segment_go_live(segment=record, by=request.user)
            messages.success(request, f"“{record}” is live.")
        elif action == "refresh":
            joined, left = services.segment_refresh(segment=record)
            messages.success(request, f"Refreshed: {joined} joined, {left} left.")
    except (ValidationError, DomainError) as exc:
        messages.error(request, "; ".join(_errors(exc).values()))
    return redirect(reverse("segments:detail", args=[pk]))


def segment_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every member as CSV (email, first and last name, since when), streamed."""
    require(request.user, "view", Segment)
    record = get_object_or_404(Segment, pk=pk)

    def lines() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(["contact_id", "email", "first_name", "last_name", "member_since"])
        rows = (
            SegmentMember.objects.filter(segment=record)
            .order_by("contact_id")
            .values_list("contact_id", "added_at")
        )
        from leadcycle.crm.models import Contact

        chunk: list[tuple[int, Any]] = []
        for row in rows.iterator(2000):
            chunk.append(row)
            if len(chunk) == 2000:
                yield from _export_chunk(writer, buffer, chunk, Contact)
                chunk = []
        yield from _export_chunk(writer, buffer, chunk, Contact)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{record.pk}.csv"'
    return response


def _export_chunk(
    writer: Any, buffer: io.StringIO, chunk: list[tuple[int, Any]], contact: Any
) -> Any:
    people = {
        c[0]: c
        for c in contact.objects.filter(pk__in=[r[0] for r in chunk]).values_list(
            "id", "email", "first_name", "last_name"
        )
    }
    for pk, added in chunk:
        person = people.get(pk, (pk, "", "", ""))
        writer.writerow([pk, person[1], person[2], person[3], added.isoformat()])
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    yield value
