"""Reads for duplicate review: likely duplicates, what a merge would do, and merge history.

Likely duplicates are found by one grouped query per rule (no pairwise comparison in Python):
contacts with the same first and last name, or the same phone; accounts with the same web
domain, or the same name, ignoring case and surrounding spaces. Emails need no rule: the
database keeps them unique. Pairs a person marked as different are left out.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Aggregate, Count, Max, Q, TextField
from django.db.models.functions import Trim, Upper

from leadcycle.duplicates import rules
from leadcycle.duplicates.models import Entity, Merge, NotDuplicate
from leadcycle.duplicates.references import model_for, references
from leadcycle.events.models import Registration

# (reason, label, the expressions two records must share); empty values never match.
_RULES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    Entity.CONTACT: (
        ("same_name", "Same first and last name", ("first_name", "last_name")),
        ("same_phone", "Same phone", ("phone",)),
    ),
    Entity.ACCOUNT: (
        ("same_domain", "Same web domain", ("web_domain",)),
        ("same_name", "Same name", ("name",)),
    ),
}
GROUP_LIMIT = 50  # records shown per group (a very common name is a hint, not a worklist)


@dataclass
class DuplicateGroup:
    """Records that share a value by one rule; the oldest is offered as the survivor."""

    reason: str
    label: str
    value: str
    records: list[models.Model] = field(default_factory=list)
    size: int = 0


class _Ids(Aggregate):  # type: ignore[type-arg]
    """A group's ids as one text, "3,17,42": ``GROUP_CONCAT`` on SQLite, ``STRING_AGG`` on
    PostgreSQL. The grouping query then names every member, and no member needs a second scan
    of the table to be found."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra,
        )


def _grouped(entity: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every group of the rule (the key, its size, its member ids), newest group first: one
    scan of the table, whatever the page."""
    model = model_for(entity)
    keys = {f"k_{n}": Upper(Trim(n)) for n in names}
    filled = Q()
    for n in names:
        filled &= ~Q(**{n: ""})
    return list(
        model._default_manager.filter(filled)
        .annotate(**keys)
        .values(*keys)
        .annotate(size=Count("pk"), newest=Max("pk"), ids=_Ids("pk"))
        .filter(size__gt=1)
        .order_by("-newest")
        .values("size", "ids")
    )


def _hidden(ids: list[int], size: int, dismissed: set[tuple[int, int]]) -> bool:
    """A group is left out when a person marked every pair of it as different. A group larger
    than what the page shows is never left out: its unseen members were never compared."""
    if not dismissed or size > GROUP_LIMIT:
        return False
    return all((a, b) in dismissed for n, a in enumerate(ids) for b in ids[n + 1 :])


REASONS: dict[str, tuple[str, ...]] = {
    entity: tuple(key for key, _, _ in rules_) for entity, rules_ in _RULES.items()
}


def duplicate_groups(
    *, entity: str, reason: str | None = None, page: int = 1, page_size: int = 20
) -> tuple[list[DuplicateGroup], int]:
    """One page of likely-duplicate groups and how many groups there are: by rule (names,
    then phones; domains, then names), each rule's newest group first. Groups a person marked
    as different are left out before paging. Costs one grouped query per rule (naming every
    member), one read of the marked pairs, and one read of the page's records by id."""
    model = model_for(entity)
    dismissed = set(NotDuplicate.objects.filter(entity=entity).values_list("low_id", "high_id"))
    found: list[tuple[str, str, tuple[str, ...], int, list[int]]] = []
    for key, label, names in _RULES[entity]:
        if reason is not None and key != reason:
            continue
        for row in _grouped(entity, names):
            ids = sorted(int(i) for i in str(row["ids"]).split(","))[:GROUP_LIMIT]
            if not _hidden(ids, row["size"], dismissed):
                found.append((key, label, names, row["size"], ids))
    start = max(page - 1, 0) * page_size
    on_page = found[start : start + page_size]
    records = model._default_manager.in_bulk([i for *_, ids in on_page for i in ids])
    groups: list[DuplicateGroup] = []
    for key, label, names, size, ids in on_page:
        members = [records[i] for i in ids if i in records]  # merged or deleted since the read
        if len(members) < 2:
            continue
        value = " ".join(str(getattr(members[0], n)).strip() for n in names)
        groups.append(DuplicateGroup(key, label, value, members, size))
    return groups, len(found)


def duplicates_of(*, entity: str, record: models.Model) -> list[DuplicateGroup]:
    """The likely duplicates of one record, by each rule its values take part in (the records
    sharing its name, phone, domain…), oldest first."""
    model = model_for(entity)
    groups = []
    for key, label, names in _RULES[entity]:
        values = [str(getattr(record, n) or "").strip().upper() for n in names]
        if not all(values):
            continue
        keys = {f"k_{n}": Upper(Trim(n)) for n in names}
        same = dict(zip(keys, values, strict=True))
        members = list(
            model._default_manager.annotate(**keys)
            .filter(**same)
            .exclude(pk=record.pk)
            .order_by("pk")[:GROUP_LIMIT]
        )
        if members:
            value = " ".join(str(getattr(record, n)).strip() for n in names)
            groups.append(DuplicateGroup(key, label, value, members, len(members) + 1))
    return groups


def readable(model: type[models.Model], name: str, value: Any) -> str:
    """A stored field value (as ``rules.field_value`` gives it) as a person reads it: choice
    labels, yes/no, the linked record's name and id."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    field = model._meta.get_field(name)
    if field.is_relation:
        linked = field.related_model._default_manager.filter(pk=value).first()  # type: ignore[union-attr]
        return f"{linked} (#{value})" if linked is not None else f"#{value}"
    return str(dict(getattr(field, "choices", None) or ()).get(value, value))


@dataclass(frozen=True)
class ComparedField:
    """A field of the comparison page: the rule's choice and both values as shown."""

    choice: rules.FieldChoice
    survivor: str
    merged: str


@dataclass(frozen=True)
class MergePreview:
    """What merging ``merged`` into ``survivor`` would do."""

    entity: str
    survivor: models.Model
    merged: models.Model
    fields: list[rules.FieldChoice]
    moves: list[tuple[str, str, int]]  # (key, label, rows)
    blocked: list[str]

    @property
    def shown(self) -> list[ComparedField]:
        return [
            ComparedField(
                f,
                readable(type(self.survivor), f.name, f.survivor),
                readable(type(self.merged), f.name, f.merged),
            )
            for f in self.fields
        ]


def merge_preview(
    *,
    entity: str,
    survivor: models.Model,
    merged: models.Model,
    keep: Mapping[str, str] | None = None,
) -> MergePreview:
    """The fields side by side with the value the survivor would end with, how many rows of
    each kind would move, and what would refuse the merge."""
    moves = []
    for ref in references(entity):
        count = ref.model._default_manager.filter(**{ref.field.attname: merged.pk}).count()
        if count:
            moves.append((ref.key, ref.label, count))
    blocked = []
    if entity == Entity.CONTACT:
        events = registrations_in_conflict(survivor.pk, merged.pk)
        if events:
            blocked.append(f"Both are registered for {', '.join(events)}.")
    return MergePreview(
        entity,
        survivor,
        merged,
        rules.field_choices(entity, survivor, merged, keep),
        moves,
        blocked,
    )


def registrations_in_conflict(survivor_id: int, merged_id: int) -> list[str]:
    """Events both people hold an active registration for: one person may hold one seat."""
    active = Registration.objects.exclude(status=Registration.Status.CANCELLED)
    both = active.filter(
        contact_id=merged_id,
        event_id__in=active.filter(contact_id=survivor_id).values("event_id"),
    ).select_related("event")
    return sorted({str(r.event) for r in both})


def merged_ids(*, entity: str, record_id: int) -> list[int]:
    """The ids of every record merged (directly or through another merge) into this one and
    not undone: their history is this record's history too."""
    found: list[int] = []
    frontier = [record_id]
    while frontier and len(found) < 1000:
        ids = list(
            Merge.objects.filter(
                entity=entity, survivor_id__in=frontier, undone_at__isnull=True
            ).values_list("merged_id", flat=True)
        )
        ids = [i for i in ids if i not in found and i != record_id]
        found += ids
        frontier = ids
    return found


def survivor_id(*, entity: str, record_id: int) -> int | None:
    """The record that ``record_id`` now lives on as: itself while it exists, else the record
    it was merged into (following later merges), else ``None`` (deleted)."""
    model = model_for(entity)
    seen: set[int] = set()
    current = record_id
    while current not in seen:
        if model._default_manager.filter(pk=current).exists():
            return current
        seen.add(current)
        nxt = (
            Merge.objects.filter(entity=entity, merged_id=current, undone_at__isnull=True)
            .values_list("survivor_id", flat=True)
            .first()
        )
        if nxt is None:
            return None
        current = nxt
    return None


def contact_survivor_id(contact_id: int) -> int | None:
    """``survivor_id`` for contacts: a known-visitor cookie of a merged contact still counts."""
    return survivor_id(entity=Entity.CONTACT, record_id=contact_id)


def merges(
    *, entities: list[str], record_id: int | None = None, limit: int = 200
) -> models.QuerySet[Merge]:
    """Merges of these entities, newest first; ``record_id``: those it took part in (either
    side)."""
    query = Merge.objects.select_related("by", "undone_by").filter(entity__in=entities)
    if record_id is not None:
        query = query.filter(Q(survivor_id=record_id) | Q(merged_id=record_id))
    return query[:limit]


def reference_labels(entity: str) -> dict[str, str]:
    return {ref.key: ref.label for ref in references(entity)}
