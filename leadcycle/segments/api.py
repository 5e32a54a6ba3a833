"""Segment endpoints: create and change segments (their query checked, naming the node at
fault), preview a query's count, go live, refresh, and list or change members.

Marketers and administrators build segments; the other roles read them.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Status
from ninja.files import UploadedFile

from leadcycle.segments import schemas, selectors, services
from leadcycle.segments.models import Segment
from leadcycle.users.permissions import require

router = Router(tags=["segments"])


def _segment(segment_id: int) -> Segment:
    return get_object_or_404(Segment, pk=segment_id)


@router.get("/segments", response=list[schemas.SegmentOut], operation_id="segment_list")
def segment_list(request: HttpRequest) -> list[Segment]:
    require(request.user, "view", Segment)
    return list(Segment.objects.all())


@router.post("/segments", response={201: schemas.SegmentOut}, operation_id="segment_create")
def segment_create(request: HttpRequest, payload: schemas.SegmentIn) -> Status[Segment]:
    """A draft segment. A bad query is a 422 naming the node, e.g. ``query.all.1.lead.all.0.op``."""
    require(request.user, "add", Segment)
    return Status(201, services.segment_create(by=request.user, data=payload.dict()))


@router.post("/segments/preview", response=schemas.PreviewOut, operation_id="segment_preview")
def segment_preview(request: HttpRequest, payload: schemas.PreviewIn) -> dict[str, int]:
    """How many contacts a query finds now, without saving anything."""
    require(request.user, "view", Segment)
    return {"count": services.preview_count(query=payload.query)}


@router.get("/segments/{segment_id}", response=schemas.SegmentOut, operation_id="segment_get")
def segment_get(request: HttpRequest, segment_id: int) -> Segment:
    require(request.user, "view", Segment)
    return _segment(segment_id)


@router.patch("/segments/{segment_id}", response=schemas.SegmentOut, operation_id="segment_update")
def segment_update(request: HttpRequest, segment_id: int, payload: schemas.SegmentPatch) -> Segment:
    """A live dynamic segment is refreshed with its new query."""
    require(request.user, "change", Segment)
    data = payload.dict(exclude_unset=True)
    services.segment_update(segment=_segment(segment_id), by=request.user, data=data)
    return _segment(segment_id)


@router.post(
    "/segments/{segment_id}/go-live", response=schemas.SegmentOut, operation_id="segment_go_live"
)
def segment_go_live(request: HttpRequest, segment_id: int) -> Segment:
    require(request.user, "change", Segment)
    services.segment_go_live(segment=_segment(segment_id), by=request.user)
    return _segment(segment_id)


@router.post(
    "/segments/{segment_id}/refresh", response=schemas.RefreshOut, operation_id="segment_refresh"
)
def segment_refresh(request: HttpRequest, segment_id: int) -> dict[str, int]:
    """Recompute a dynamic segment's members now: how many joined and left."""
    require(request.user, "change", Segment)
    joined, left = services.segment_refresh(segment=_segment(segment_id))
    return {"joined": joined, "left": left, "member_count": _segment(segment_id).member_count}


@router.get(
    "/segments/{segment_id}/members",
    response=schemas.MembersPage,
    operation_id="segment_members",
)
def segment_members(
    request: HttpRequest, segment_id: int, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    require(request.user, "view", Segment)
    return selectors.members_page(
        segment=_segment(segment_id), offset=max(0, offset), limit=max(1, min(limit, 1000))
    )


@router.post(
    "/segments/{segment_id}/members",
    response=schemas.ChangedOut,
    operation_id="segment_members_add",
)
def segment_members_add(
    request: HttpRequest, segment_id: int, payload: schemas.MembersChangeIn
) -> dict[str, int]:
    """Static segments: add these contacts, and/or those a query finds now."""
    require(request.user, "change", Segment)
    changed = services.segment_members_add(
        segment=_segment(segment_id),
        by=request.user,
        contact_ids=payload.contact_ids,
        query=payload.query,
    )
    return {"changed": changed, "member_count": _segment(segment_id).member_count}


@router.post(
    "/segments/{segment_id}/members/remove",
    response=schemas.ChangedOut,
    operation_id="segment_members_remove",
)
def segment_members_remove(
    request: HttpRequest, segment_id: int, payload: schemas.MembersChangeIn
) -> dict[str, int]:
    require(request.user, "change", Segment)
    changed = services.segment_members_remove(
        segment=_segment(segment_id), by=request.user, contact_ids=payload.contact_ids
    )
    return {"changed": changed, "member_count": _segment(segment_id).member_count}


@router.post(
    "/segments/{segment_id}/members/import",
    response=schemas.ImportedOut,
    operation_id="segment_members_import",
)
def segment_members_import(
    request: HttpRequest, segment_id: int, file: File[UploadedFile]
) -> dict[str, int]:
    """Static segments: add the contacts a CSV or XLSX file names by email (multipart)."""
    require(request.user, "change", Segment)
    added, missing = services.segment_members_import(
        segment=_segment(segment_id), by=request.user, upload=file, file_name=file.name or ""
    )
    return {"added": added, "not_found": missing, "member_count": _segment(segment_id).member_count}


@router.delete("/segments/{segment_id}", response={204: None}, operation_id="segment_delete")
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    require(request.user, "delete", Segment)
    services.segment_delete(segment=_segment(segment_id), by=request.user)
    return HttpResponse(status=204)
