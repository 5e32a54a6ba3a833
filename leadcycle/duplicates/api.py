"""Duplicate review and merge endpoints.

Reviewing needs the right to view the records; merging, undoing and marking records as not
duplicates need the rights to change and to delete them (a merge deletes one record).
"""

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from leadcycle.duplicates import selectors, services
from leadcycle.duplicates.models import Entity, Merge
from leadcycle.duplicates.references import model_for
from leadcycle.errors import DomainError
from leadcycle.users.permissions import can, require

router = Router(tags=["duplicates"])

_PLURAL: dict[str, str] = {"contacts": Entity.CONTACT, "accounts": Entity.ACCOUNT}
_SUMMARY: dict[str, tuple[str, ...]] = {
    Entity.CONTACT: ("first_name", "last_name", "email", "phone", "job_title", "account_id"),
    Entity.ACCOUNT: ("name", "web_domain", "industry", "country"),
}


def _entity(plural: str) -> str:
    entity = _PLURAL.get(plural)
    if entity is None:
        raise Http404(f"No duplicates of “{plural}”: contacts or accounts.")
    return entity


def _may_merge(request: HttpRequest, entity: str) -> None:
    model = model_for(entity)
    require(request.user, "change", model)
    require(request.user, "delete", model)


def record_summary(entity: str, record: Any) -> dict[str, Any]:
    """The fields a person compares, for lists of duplicates."""
    return {
        "id": record.pk,
        "label": str(record),
        **{name: getattr(record, name) for name in _SUMMARY[entity]},
        "created_at": record.created_at,
    }


class GroupsQuery(Schema):
    reason: str | None = Field(
        None, description="same_name or same_phone (contacts); same_domain or same_name (accounts)"
    )
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class MergeIn(Schema):
    merged_id: RecordId = Field(description="The record that goes away; everything it has moves.")
    keep: dict[str, str] = Field(
        {},
        description='Per field, whose value the survivor ends with: {"job_title": "merged"}. '
        "Unnamed fields: the survivor's value, or the merged record's when the survivor's "
        "is empty.",
    )


class IdsIn(Schema):
    ids: list[RecordId]


class MergeOut(Schema):
    id: int
    entity: str
    survivor_id: int
    merged_id: int
    merged_repr: str
    survivor_before: dict[str, Any]
    survivor_after: dict[str, Any]
    moved: dict[str, int]
    dropped_memberships: list[Any]
    by: str | None = None
    at: Any
    undone_at: Any = None

    @staticmethod
    def resolve_by(obj: Merge) -> str | None:
        return obj.by.get_username() if obj.by else None


@router.get("/duplicates/{entity}", response=dict[str, Any], operation_id="duplicate_groups")
def duplicate_groups(
    request: HttpRequest, entity: str, filters: Query[GroupsQuery]
) -> dict[str, Any]:
    """Likely duplicates (``contacts`` or ``accounts``), grouped by the value they share,
    newest groups first; the oldest record of a group comes first (the suggested survivor)."""
    kind = _entity(entity)
    require(request.user, "view", model_for(kind))
    if filters.reason is not None and filters.reason not in selectors.REASONS[kind]:
        raise DomainError(
            "unknown_reason",
            f"Group {entity} by one of: {', '.join(selectors.REASONS[kind])}.",
            fields={"reason": ", ".join(selectors.REASONS[kind])},
            status=422,
        )
    groups, count = selectors.duplicate_groups(
        entity=kind, reason=filters.reason, page=filters.page, page_size=filters.page_size
    )
    return {
        "items": [
            {
                "reason": g.reason,
                "label": g.label,
                "value": g.value,
                "size": g.size,
                "records": [record_summary(kind, r) for r in g.records],
            }
            for g in groups
        ],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post(
    "/duplicates/{entity}/not-duplicates",
    response=dict[str, int],
    operation_id="duplicate_dismiss",
)
def not_duplicates(request: HttpRequest, entity: str, payload: IdsIn) -> dict[str, int]:
    """Mark these records as different: the review stops grouping them together."""
    kind = _entity(entity)
    _may_merge(request, kind)
    marked = services.not_duplicates_mark(entity=kind, ids=payload.ids, by=request.user)
    return {"marked_pairs": marked}


def _preview(kind: str, survivor_id: int, payload: MergeIn) -> dict[str, Any]:
    model = model_for(kind)
    survivor = get_object_or_404(model, pk=survivor_id)
    merged = get_object_or_404(model, pk=payload.merged_id)
    preview = selectors.merge_preview(
        entity=kind, survivor=survivor, merged=merged, keep=payload.keep
    )
    return {
        "survivor": record_summary(kind, survivor),
        "merged": record_summary(kind, merged),
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "survivor": f.survivor,
                "merged": f.merged,
                "result": f.result,
                "choice": f.choice,
                "rule": f.rule,
            }
            for f in preview.fields
        ],
        "moves": [{"ref": k, "label": label, "rows": n} for k, label, n in preview.moves],
        "blocked": preview.blocked,
    }


def _merge_routes(plural: str) -> None:
    """``/{plural}/{id}/merge/preview`` and ``/{plural}/{id}/merge`` for one record type."""
    kind = _entity(plural)
    name = str(model_for(kind)._meta.verbose_name)

    def preview(request: HttpRequest, record_id: int, payload: MergeIn) -> dict[str, Any]:
        require(request.user, "view", model_for(kind))
        return _preview(kind, record_id, payload)

    def create(request: HttpRequest, record_id: int, payload: MergeIn) -> Merge:
        _may_merge(request, kind)
        return services.record_merge(
            entity=kind,
            survivor_id=record_id,
            merged_id=payload.merged_id,
            keep=payload.keep,
            by=request.user,
        )

    router.post(
        f"/{plural}/{{record_id}}/merge/preview",
        response=dict[str, Any],
        operation_id=f"{kind}_merge_preview",
        summary=f"What merging another {name} into this one would do",
        description="Each field's value on both records and the value kept, how many rows of "
        "each kind would move, and what would refuse the merge.",
    )(preview)
    router.post(
        f"/{plural}/{{record_id}}/merge",
        response=MergeOut,
        operation_id=f"{kind}_merge",
        summary=f"Merge another {name} into this one",
        description="Everything the merged record has moves to this one; its values fill "
        "this one's empty fields unless `keep` says otherwise; it is deleted. Undo with "
        "`POST /merges/{id}/undo`.",
    )(create)


for _plural in _PLURAL:
    _merge_routes(_plural)


@router.get("/merges", response=list[MergeOut], operation_id="merge_list")
def merge_list(
    request: HttpRequest, entity: str | None = None, record_id: int | None = None
) -> list[Merge]:
    """Merges, newest first; ``record_id`` with ``entity``: those the record took part in."""
    if entity is not None and entity not in Entity.values:
        raise DomainError(
            "unknown_entity",
            "Merges are of contacts or accounts.",
            fields={"entity": "contact or account"},
            status=422,
        )
    kinds = [entity] if entity else list(Entity.values)
    allowed = [k for k in kinds if can(request.user, "view", model_for(k))]
    if not allowed:
        require(request.user, "view", model_for(kinds[0]))
    return list(selectors.merges(entities=allowed, record_id=record_id))


@router.get("/merges/{merge_id}", response=MergeOut, operation_id="merge_get")
def merge_get(request: HttpRequest, merge_id: int) -> Merge:
    merge = get_object_or_404(Merge, pk=merge_id)
    require(request.user, "view", model_for(merge.entity))
    return merge


@router.post("/merges/{merge_id}/undo", response=MergeOut, operation_id="merge_undo")
def merge_undo(request: HttpRequest, merge_id: int) -> Merge:
    """Put the merged record back with its own values and move back what the merge moved."""
    merge = get_object_or_404(Merge, pk=merge_id)
    _may_merge(request, merge.entity)
    return services.merge_undo(merge_id=merge.pk, by=request.user)
