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
from leadcycle.interactions.selectors import kinds_known
from leadcycle.segments import selectors, services
from leadcycle.segments.builder import ROW_TYPES, Tree, slot
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
    if data["kind"] == "dynamic":
        try:
            data["query"] = _query_from(request)
        except ValueError as exc:
            errors["query"] = f"Not valid JSON: {exc}"
    return data, errors


def _query_from(request: HttpRequest) -> Any:
    """The query as posted: from the tree builder's inputs, or the JSON text area."""
    if request.POST.get("mode") == "builder":
        return Tree.from_post(request.POST).to_json()
    text = request.POST.get("query", "").strip()
    return json.loads(text) if text else None


def _tree_context(tree: Tree, errors: dict[str, str]) -> dict[str, Any]:
    problems = {slot(path): message for path, message in errors.items()}
    rows, slots = tree.layout(problems)
    return {
        "tree": tree,
        "rows": rows,
        "slot_messages": [(name, problems.get(name, "")) for name in slots],
        "row_types": ROW_TYPES.items(),
        "groups": [("all", "all of"), ("any", "any of"), ("none", "none of")],
        "kinds": sorted(kinds_known().items(), key=lambda item: item[1].lower()),
        "segments": Segment.objects.values_list("id", "name"),
        "query_json": json.dumps(tree.to_json(), indent=2),
    }


def _count_errors(query: Any) -> tuple[int | None, dict[str, str]]:
    try:
        return services.preview_count(query=query), {}
    except ValidationError as exc:
        return None, _errors(exc)


@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    record = get_object_or_404(Segment, pk=pk) if pk else None
    require(request.user, "change" if record else "add", Segment)
    errors: dict[str, str] = {}
    query = record.query if record else CONTOSO_EXAMPLE
    values: dict[str, Any] = {
        "name": record.name if record else "",
        "description": record.description if record else "",
        "kind": record.kind if record else "dynamic",
        "query": json.dumps(query, indent=2),
    }
    tree = Tree.from_json(query) if request.GET.get("mode") != "json" else None
    if request.method == "POST":
        values.update(
            {k: request.POST.get(k, "") for k in ("name", "description", "kind", "query")}
        )
        tree = Tree.from_post(request.POST) if request.POST.get("mode") == "builder" else None
        if tree is not None and request.POST.get("edit"):
            # A builder button without JavaScript: the page again, changed, not saved.
            tree.edit(str(request.POST["edit"]))
            page = {"record": record, "values": values, "errors": {}, "builder": True}
            return render(request, "segments/edit.html", {**page, **_tree_context(tree, {})})
        data, errors = _form_data(request)
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
    context: dict[str, Any] = {"record": record, "values": values, "errors": errors}
    if tree is not None:
        context.update(builder=True, **_tree_context(tree, errors))
    return render(request, "segments/edit.html", context, status=422 if errors else 200)


@require_POST
def segment_tree(request: HttpRequest) -> HttpResponse:
    """htmx: the tree builder again after a button or a choice that changes its inputs."""
    require(request.user, "add", Segment)
    tree = Tree.from_post(request.POST)
    if request.POST.get("edit"):
        tree.edit(str(request.POST["edit"]))
    count, errors = _count_errors(tree.to_json())
    context = {**_tree_context(tree, errors), "count": count, "errors": errors, "oob": True}
    return render(request, "segments/_tree.html", context)


@require_POST
def segment_count(request: HttpRequest) -> HttpResponse:
    """htmx, while editing: how many contacts the query finds now, or what is wrong with it
    (in the builder, next to the inputs at fault too)."""
    require(request.user, "view", Segment)
    context: dict[str, Any] = {}
    try:
        query = _query_from(request)
    except ValueError as exc:
        context["errors"] = {"query": f"Not valid JSON: {exc}"}
    else:
        context["count"], context["errors"] = _count_errors(query)
        if request.POST.get("mode") == "builder":
            tree = Tree.from_post(request.POST)
            context.update(_tree_context(tree, context["errors"]), oob_slots=True)
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
def segment_import(request: HttpRequest, pk: int) -> HttpResponse:
    """A static segment: add the contacts a file names by email."""
    require(request.user, "change", Segment)
    record = get_object_or_404(Segment, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV or XLSX file with an Email column.")
        return redirect(reverse("segments:detail", args=[pk]))
    try:
        added, missing = services.segment_members_import(
            segment=record, by=request.user, upload=upload, file_name=upload.name or ""
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, "; ".join(_errors(exc).values()))
    else:
        messages.success(request, f"{added} added; {missing} emails match no contact.")
    return redirect(reverse("segments:detail", args=[pk]))


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
