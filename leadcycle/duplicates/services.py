"""Merging two contacts or two accounts, undoing a merge, and dismissing a suggested pair.

``record_merge`` is one transaction: both records locked in id order, every row pointing at
the merged record re-pointed to the survivor (one ``INSERT … SELECT`` into ``MergeMove`` and
one ``UPDATE`` per referencing column, whatever the number of rows), the survivor's fields
completed through the CRM's own update service (validated and audited), the merged record
deleted with an audit entry saying where it went. ``merge_undo`` reverses exactly that.
"""

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import Actor, audit_record, json_value, record_snapshot
from leadcycle.changes import records_changed
from leadcycle.crm import services as crm
from leadcycle.crm.models import Account, Contact, Lead
from leadcycle.duplicates import rules, selectors
from leadcycle.duplicates.models import Entity, Merge, MergeMove, NotDuplicate
from leadcycle.duplicates.references import Reference, model_for, references
from leadcycle.duplicates.selectors import registrations_in_conflict
from leadcycle.errors import DomainError
from leadcycle.segments.models import MembershipChange, Segment, SegmentMember

_UPDATE: dict[str, Callable[..., Any]] = {
    Entity.CONTACT: crm.contact_update,
    Entity.ACCOUNT: crm.account_update,
}
_SEGMENT_MEMBER = "segments.segmentmember.contact"
_REGISTRATION = "events.registration.contact"


def _locked(entity: str, ids: Iterable[int]) -> dict[int, models.Model]:
    """The records, locked in id order (two merges of the same pair cannot cross)."""
    model = model_for(entity)
    rows = model._default_manager.select_for_update().filter(pk__in=list(ids)).order_by("pk")
    return {row.pk: row for row in rows}


def _entity_checked(entity: str) -> str:
    if entity not in Entity.values:
        raise DomainError(
            "unknown_entity",
            "Contacts and accounts can be merged.",
            fields={"entity": "contact or account"},
            status=422,
        )
    return entity


def _rows_moved(merge: Merge, ref: Reference, *, source: int, target: int) -> int:
    """Re-point ``ref``'s rows from ``source`` to ``target``, recording each row's id."""
    q = connection.ops.quote_name
    table, column, pk = q(ref.table), q(ref.column), q(ref.pk_column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(MergeMove._meta.db_table)} (merge_id, ref, row_id) "  # noqa: S608
            f"SELECT %s, %s, {pk} FROM {table} WHERE {column} = %s",
            [merge.pk, ref.key, source],
        )
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {column} = %s",  # noqa: S608
            [target, source],
        )
        return max(cursor.rowcount, 0)


def _rows_moved_back(merge: Merge, ref: Reference) -> int:
    """Move back the rows ``merge`` moved that still point at the survivor (a row a person
    re-pointed since stays where they put it)."""
    q = connection.ops.quote_name
    table, column, pk = q(ref.table), q(ref.column), q(ref.pk_column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {column} = %s AND {pk} IN "  # noqa: S608
            f"(SELECT row_id FROM {q(MergeMove._meta.db_table)} WHERE merge_id = %s AND ref = %s)",
            [merge.merged_id, merge.survivor_id, merge.pk, ref.key],
        )
        return max(cursor.rowcount, 0)


def _row_ids(ref: Reference, record_id: int) -> list[int]:
    return list(
        ref.model._default_manager.filter(**{ref.field.attname: record_id}).values_list(
            "pk", flat=True
        )
    )


def _full_snapshot(record: models.Model) -> dict[str, Any]:
    """Every column of ``record`` by attribute name, as JSON values (timestamps included)."""
    return {
        f.attname: json_value(getattr(record, f.attname), f)
        for f in record._meta.concrete_fields
        if not f.primary_key
    }


@transaction.atomic
def record_merge(
    *,
    entity: str,
    survivor_id: int,
    merged_id: int,
    by: Actor,
    keep: Mapping[str, str] | None = None,
) -> Merge:
    """Merge record ``merged_id`` into ``survivor_id``: every lead, interaction, task,
    opportunity, registration, submission, membership (and for accounts every contact) of the
    merged record moves to the survivor; the survivor's empty fields take the merged record's
    values (``keep`` chooses per field: ``{"job_title": "merged"}``); the merged record is
    deleted. Refused with 409 ``both_registered`` when both people hold a seat at one event."""
    _entity_checked(entity)
    if survivor_id == merged_id:
        raise DomainError(
            "same_record",
            "A record cannot be merged into itself.",
            fields={"merged_id": "Choose another record."},
            status=422,
        )
    keep = rules.keep_checked(entity, keep)
    ids = [pk for pk in (survivor_id, merged_id) if 0 < pk < 2**63]  # others exist nowhere
    records = _locked(entity, sorted(ids))
    name = str(model_for(entity)._meta.verbose_name)
    for key, pk in (("survivor_id", survivor_id), ("merged_id", merged_id)):
        if pk not in records:
            raise DomainError(
                "not_found", f"No {name} with id {pk}.", fields={key: "Not found."}, status=404
            )
    survivor, merged = records[survivor_id], records[merged_id]
    if entity == Entity.CONTACT:
        events = registrations_in_conflict(survivor_id, merged_id)
        if events:
            raise DomainError(
                "both_registered",
                f"Both are registered for {', '.join(events)}: cancel one registration first.",
                fields={"merged_id": "Registered for the same event."},
            )
    choices = rules.field_choices(entity, survivor, merged, keep)
    changes = rules.changed_fields(choices)

    merge = Merge.objects.create(
        entity=entity,
        survivor_id=survivor_id,
        merged_id=merged_id,
        merged_repr=_repr(merged),
        merged_snapshot=_full_snapshot(merged),
        survivor_before={n: rules.field_value(survivor, n) for n in changes},
        survivor_after=changes,
        by=crm_actor(by),
    )
    moved_leads: list[int] = []
    moved_contacts: list[int] = []
    moved: dict[str, int] = {}
    for ref in references(entity):
        if ref.key == _SEGMENT_MEMBER:
            merge.dropped_memberships = _memberships_merged(survivor_id, merged_id)
        if ref.model is Lead:
            moved_leads += _row_ids(ref, merged_id)
        if ref.model is Contact:
            moved_contacts += _row_ids(ref, merged_id)
        try:
            # A savepoint only where a unique rule can refuse the move.
            with transaction.atomic() if ref.key == _REGISTRATION else contextlib.nullcontext():
                count = _rows_moved(merge, ref, source=merged_id, target=survivor_id)
        except IntegrityError as exc:
            # Only the registration rule can refuse a move: a cancelled registration was
            # made active again after the check above.
            raise DomainError(
                "both_registered",
                "Both are registered for the same event: cancel one registration first.",
                fields={"merged_id": "Registered for the same event."},
            ) from exc
        if count:
            moved[ref.key] = count
    merge.moved = moved
    merge.save(update_fields=["moved", "dropped_memberships"])

    audit_record(
        actor=by,
        action=AuditEntry.Action.DELETE,
        instance=merged,
        before={**record_snapshot(merged), "merged into": None},
        after={"merged into": f"#{survivor_id} {_repr(survivor)}"},
    )
    merged.delete()
    if changes:
        data = {_attname(survivor, n): v for n, v in changes.items()}
        _UPDATE[entity](**{entity: survivor}, by=by, data=data)
    _import_key_carried(merge, survivor, merged)
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=survivor,
        before={"merged": None, **{f"moved {k}": 0 for k in moved}},
        after={
            "merged": f"#{merged_id} {merge.merged_repr}",
            **{f"moved {k}": v for k, v in moved.items()},
        },
    )
    _announce(entity, survivor_id, moved_contacts, moved_leads)
    return merge


def _import_key_carried(merge: Merge, survivor: models.Model, merged: models.Model) -> None:
    """A contact an import created keeps that row's import key, so that re-running the file
    finds the person instead of creating them again: the survivor takes the merged record's
    key when it has none of its own (undo gives it back)."""
    theirs = getattr(merged, "import_key", None)
    if not theirs or getattr(survivor, "import_key", None):
        return
    type(survivor)._default_manager.filter(pk=survivor.pk).update(import_key=theirs)
    merge.survivor_before = {**merge.survivor_before, "import_key": None}
    merge.survivor_after = {**merge.survivor_after, "import_key": theirs}
    merge.save(update_fields=["survivor_before", "survivor_after"])


def _memberships_merged(survivor_id: int, merged_id: int) -> list[list[Any]]:
    """Segment membership follows the person: the merged contact leaves every segment it was
    in (history), the survivor joins those it was not in (its row moves with the other
    references), and where both were members the merged contact's row is deleted and the
    segment counts one member less. The deleted rows are returned for undo."""
    now = timezone.now()
    theirs = dict(
        SegmentMember.objects.filter(contact_id=merged_id).values_list("segment_id", "added_at")
    )
    if not theirs:
        return []
    mine = set(
        SegmentMember.objects.filter(contact_id=survivor_id, segment_id__in=theirs).values_list(
            "segment_id", flat=True
        )
    )
    SegmentMember.objects.filter(contact_id=merged_id, segment_id__in=mine).delete()
    Segment.objects.filter(pk__in=mine).update(member_count=F("member_count") - 1)
    MembershipChange.objects.bulk_create(
        [
            MembershipChange(segment_id=s, contact_id=merged_id, change="left", at=now)
            for s in theirs
        ]
        + [
            MembershipChange(segment_id=s, contact_id=survivor_id, change="joined", at=now)
            for s in theirs
            if s not in mine
        ]
    )
    return [[s, json_value(theirs[s])] for s in sorted(mine)]


def _memberships_restored(merge: Merge) -> None:
    """Undo's side of ``_memberships_merged``: the deleted rows back (in segments that still
    exist), counted again, and the history of the merged contact rejoining."""
    now = timezone.now()
    dropped = dict(merge.dropped_memberships)
    live = set(Segment.objects.filter(pk__in=list(dropped)).values_list("pk", flat=True))
    SegmentMember.objects.bulk_create(
        [
            SegmentMember(segment_id=s, contact_id=merge.merged_id, added_at=at)
            for s, at in dropped.items()
            if s in live
        ],
        ignore_conflicts=True,
    )
    Segment.objects.filter(pk__in=live).update(member_count=F("member_count") + 1)
    back = set(
        SegmentMember.objects.filter(contact_id=merge.merged_id).values_list(
            "segment_id", flat=True
        )
    )
    MembershipChange.objects.bulk_create(
        [
            MembershipChange(segment_id=s, contact_id=merge.merged_id, change="joined", at=now)
            for s in sorted(back)
        ]
        + [
            MembershipChange(segment_id=s, contact_id=merge.survivor_id, change="left", at=now)
            for s in sorted(back - live)
        ]
    )


def _announce(entity: str, record_id: int, contact_ids: list[int], lead_ids: list[int]) -> None:
    """Rescore moved leads, re-evaluate segments for the people concerned."""
    if entity == Entity.CONTACT:
        records_changed(contact_ids=[record_id], lead_ids=lead_ids)
    else:
        lead_ids = lead_ids + list(
            Lead.objects.filter(parent_contact_id__in=contact_ids).values_list("pk", flat=True)
        )
        records_changed(account_ids=[record_id], contact_ids=contact_ids, lead_ids=lead_ids)


def _attname(record: models.Model, name: str) -> str:
    return record._meta.get_field(name).attname  # type: ignore[union-attr]


def _repr(record: models.Model) -> str:
    if isinstance(record, Contact) and record.email and record.full_name:
        return f"{record.full_name} <{record.email}>"[:200]
    return str(record)[:200]


def crm_actor(by: Actor) -> Any:
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def merge_undo(*, merge_id: int, by: Actor) -> Merge:
    """Put the merged record back under its own id with its own values, move back every row
    the merge moved (those still pointing at the survivor), give back the survivor's values
    (those nobody changed since) and the dropped segment memberships."""
    merge = Merge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise DomainError("not_found", f"No merge with id {merge_id}.", status=404)
    if merge.undone:
        raise DomainError("already_undone", "This merge was undone already.")
    entity, model = merge.entity, model_for(merge.entity)
    survivor = _locked(entity, [merge.survivor_id]).get(merge.survivor_id)
    if survivor is None:
        later = Merge.objects.filter(
            entity=entity, merged_id=merge.survivor_id, undone_at__isnull=True
        ).first()
        hint = f" Undo merge #{later.pk} first." if later else ""
        raise DomainError(
            "survivor_gone",
            f"The {model._meta.verbose_name} #{merge.survivor_id} it was merged into no longer "
            f"exists.{hint}",
        )
    # The survivor's values back, where nobody changed them since the merge.
    restore = {
        _attname(survivor, name): merge.survivor_before.get(name)
        for name, after in merge.survivor_after.items()
        if rules.field_value(survivor, name) == after
    }
    import_key = restore.pop("import_key", ...)
    if restore:
        try:
            with transaction.atomic():
                _UPDATE[entity](**{entity: survivor}, by=by, data=restore)
        except ValidationError as exc:
            raise DomainError(
                "restore_conflict",
                f"The {model._meta.verbose_name}'s earlier values cannot be put back: "
                + "; ".join(m for msgs in exc.message_dict.values() for m in msgs),
                fields={k: " ".join(v) for k, v in exc.message_dict.items()},
            ) from exc
    if import_key is not ...:  # not a field people edit: given back as it was taken (after the
        # update above, which saves the whole survivor as it was read)
        model._default_manager.filter(pk=survivor.pk).update(import_key=import_key)
    restored = _restored(model, merge)
    for ref in references(entity):
        _rows_moved_back(merge, ref)
    if entity == Entity.CONTACT:
        _memberships_restored(merge)
    merge.undone_at = timezone.now()
    merge.undone_by = crm_actor(by)
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_record(
        actor=by,
        action=AuditEntry.Action.CREATE,
        instance=restored,
        after={**record_snapshot(restored), "restored": f"undo of merge #{merge.pk}"},
    )
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=survivor,
        before={"merged": f"#{merge.merged_id} {merge.merged_repr}"},
        after={"merged": None},
    )
    moved_back = {
        ref.key: _row_ids(ref, merge.merged_id)
        for ref in references(entity)
        if ref.model in (Lead, Contact)
    }
    leads = [i for k, ids in moved_back.items() if k.startswith("crm.lead.") for i in ids]
    contacts = [i for k, ids in moved_back.items() if k.startswith("crm.contact.") for i in ids]
    _announce(entity, merge.survivor_id, contacts, leads)
    if entity == Entity.CONTACT:
        records_changed(contact_ids=[merge.merged_id])
    else:
        records_changed(account_ids=[merge.merged_id])
    return merge


def _restored(model: type[models.Model], merge: Merge) -> models.Model:
    """The merged record inserted again under its own id, timestamps as they were. A link to
    an account merged away since follows it to its survivor; a link to a record deleted since
    is dropped."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname not in merge.merged_snapshot:
            continue
        value = field.to_python(merge.merged_snapshot[field.attname])
        if isinstance(field, models.ForeignKey) and value is not None:
            target = field.related_model
            if target is Account:
                value = selectors.survivor_id(entity=Entity.ACCOUNT, record_id=value)
            elif not target._default_manager.filter(pk=value).exists():  # type: ignore[union-attr]
                value = None
        values[field.attname] = value
    record = model(pk=merge.merged_id, **values)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError as exc:
        if isinstance(record, Contact) and crm.email_taken(exc):
            raise DomainError(
                "email_taken",
                f"Another contact has the email {record.email} now: change it before undoing.",
                fields={"email": f"{record.email} belongs to another contact now."},
            ) from exc
        raise DomainError(
            "restore_conflict",
            f"The {model._meta.verbose_name} cannot be put back: {exc}"[:300],
        ) from exc
    stamps = {k: values[k] for k in ("created_at", "updated_at") if k in values}
    if stamps:
        model._default_manager.filter(pk=record.pk).update(**stamps)
    return record


@transaction.atomic
def not_duplicates_mark(*, entity: str, ids: Iterable[int], by: Actor) -> int:
    """Say these records are different people or companies: the review stops pairing them.
    Returns how many pairs were newly marked."""
    _entity_checked(entity)
    unique_ids = sorted(set(ids))
    if len(unique_ids) < 2:
        raise DomainError(
            "too_few_records",
            "Name at least two different records.",
            fields={"ids": "At least two ids."},
            status=422,
        )
    found = set(
        model_for(entity)._default_manager.filter(pk__in=unique_ids).values_list("pk", flat=True)
    )
    missing = [i for i in unique_ids if i not in found]
    if missing:
        raise DomainError(
            "not_found",
            f"No {entity} with id {missing[0]}.",
            fields={"ids": f"Unknown id {missing[0]}."},
            status=404,
        )
    pairs = [
        NotDuplicate(entity=entity, low_id=a, high_id=b, by=crm_actor(by))
        for i, a in enumerate(unique_ids)
        for b in unique_ids[i + 1 :]
    ]
    before = NotDuplicate.objects.filter(entity=entity, low_id__in=unique_ids).count()
    NotDuplicate.objects.bulk_create(pairs, ignore_conflicts=True)
    return NotDuplicate.objects.filter(entity=entity, low_id__in=unique_ids).count() - before
