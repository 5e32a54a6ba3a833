"""Segments: create and change them (the query checked, references to other segments without
cycles), take them live, and refresh their members set-based — one evaluation of the query
into a scratch table, then one insert of the joiners, one delete of the leavers, and their
history, whatever the number of contacts."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import (
    Actor,
    audit_create,
    audit_record,
    audit_update,
    record_snapshot,
)
from leadcycle.errors import DomainError
from leadcycle.interactions.selectors import kinds_known
from leadcycle.segments import compiler
from leadcycle.segments.models import MembershipChange, Segment, SegmentMember

EDITABLE = ("name", "description", "kind", "query")


def _error(name: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


def references_of(query: object) -> set[int]:
    """The segments a stored query refers to (without checking the rest of it)."""
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            value = node.get("segment")
            if isinstance(value, int) and not isinstance(value, bool):
                found.add(value)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(query)
    return found


def query_parse(query: object, *, segment: Segment | None = None) -> compiler.Group:
    """Check a query (``ValidationError`` naming the node, e.g. ``query.all.1.lead.all.0.op``)
    and that following its segment references never leads back to ``segment``."""
    existing = set(Segment.objects.values_list("id", flat=True))
    parser = compiler.Parser(kinds_known(), lambda pk: pk in existing)
    try:
        group = parser.parse(query)
    except ValidationError as exc:
        raise ValidationError(
            {f"query.{k}" if k != "query" else k: v for k, v in exc.error_dict.items()}
        ) from None
    if segment is not None and segment.pk is not None:
        _cycle_check(segment.pk, parser.references)
    return group


def _cycle_check(segment_id: int, references: set[int]) -> None:
    queries = dict(Segment.objects.values_list("id", "query"))
    seen: set[int] = set()
    todo = list(references)
    while todo:
        current = todo.pop()
        if current == segment_id:
            raise _error("query", "The segments it uses lead back to this one.", "cycle")
        if current in seen:
            continue
        seen.add(current)
        todo.extend(references_of(queries.get(current)))


def _apply(segment: Segment, data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise _error(unknown[0], "Unknown field.", "unknown_field")
    for name in EDITABLE:
        if name in data:
            setattr(segment, name, data[name])
    segment.name = " ".join(str(segment.name or "").split())
    if segment.kind not in Segment.Kind.values:
        raise _error("kind", "dynamic or static.", "invalid_choice")
    if segment.kind == Segment.Kind.DYNAMIC:
        query_parse(segment.query, segment=segment)
    segment.full_clean(exclude=["status", "version", "member_count", "query"])


@transaction.atomic
def segment_create(*, by: Actor, data: Mapping[str, Any]) -> Segment:
    """A draft segment (its query checked)."""
    segment = Segment(created_by=by if by is not None and by.is_authenticated else None)
    _apply(segment, data)
    segment.save()
    audit_create(actor=by, instance=segment)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, by: Actor, data: Mapping[str, Any]) -> Segment:
    """Change a segment; a live dynamic one is refreshed with its new query."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    before = record_snapshot(segment)
    if "kind" in data and data["kind"] != segment.kind and segment.status == "live":
        raise DomainError("segment_live", "A live segment keeps its kind.")
    _apply(segment, data)
    segment.version += 1
    segment.save()
    audit_update(actor=by, instance=segment, before=before)
    if segment.status == Segment.Status.LIVE and segment.kind == Segment.Kind.DYNAMIC:
        segment_refresh(segment=segment)
    return segment


@transaction.atomic
def segment_go_live(*, segment: Segment, by: Actor) -> Segment:
    """Take a draft live: a dynamic segment's members are computed now."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.status == Segment.Status.LIVE:
        raise DomainError("segment_live", f"“{segment}” is live already.")
    before = record_snapshot(segment)
    segment.status = Segment.Status.LIVE
    segment.save(update_fields=["status", "updated_at"])
    audit_update(actor=by, instance=segment, before=before)
    if segment.kind == Segment.Kind.DYNAMIC:
        segment_refresh(segment=segment)
    return segment


def preview_count(*, query: object) -> int:
    """How many contacts a query finds now (the editor's live count)."""
    group = query_parse(query)
    condition, params = compiler.compile_sql(group, now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM crm_contact c WHERE {condition}", params)  # noqa: S608 - compiled, values as parameters
        return int(cursor.fetchone()[0])


_WANTED = "segment_refresh_wanted"


@transaction.atomic
def segment_refresh(*, segment: Segment, now: Any = None) -> tuple[int, int]:
    """Recompute a dynamic segment's members: (joined, left). The query runs once, into a
    scratch table; joiners are inserted and leavers deleted in one statement each, with a
    history row for every one of them."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != Segment.Kind.DYNAMIC:
        raise DomainError("segment_static", "A static segment changes by hand, not by query.")
    now = now or timezone.now()  # "in the last N days" counts back from here
    condition, params = compiler.compile_sql(query_parse(segment.query), now=now)
    sid = segment.pk
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_WANTED}")
        cursor.execute(
            f"CREATE TEMP TABLE {_WANTED} AS SELECT c.id AS contact_id FROM crm_contact c"  # noqa: S608 - compiled, values as parameters
            f" WHERE {condition}",
            params,
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE UNIQUE INDEX ON {_WANTED} (contact_id)")
            cursor.execute(f"ANALYZE {_WANTED}")
        else:
            cursor.execute(f"CREATE UNIQUE INDEX {_WANTED}_idx ON {_WANTED} (contact_id)")
        joiners = (
            f" FROM {_WANTED} w WHERE NOT EXISTS (SELECT 1 FROM segments_segmentmember m"  # noqa: S608 - fixed names
            " WHERE m.segment_id = %s AND m.contact_id = w.contact_id)"
        )
        leavers = (
            " FROM segments_segmentmember m WHERE m.segment_id = %s AND NOT EXISTS"  # noqa: S608 - fixed names
            f" (SELECT 1 FROM {_WANTED} w WHERE w.contact_id = m.contact_id)"
        )
        cursor.execute(
            "INSERT INTO segments_membershipchange (segment_id, contact_id, change, at)"
            f" SELECT %s, w.contact_id, 'joined', %s{joiners}",
            [sid, now, sid],
        )
        joined = cursor.rowcount
        cursor.execute(
            "INSERT INTO segments_membershipchange (segment_id, contact_id, change, at)"
            f" SELECT %s, m.contact_id, 'left', %s{leavers}",
            [sid, now, sid],
        )
        left = cursor.rowcount
        cursor.execute(
            "DELETE FROM segments_segmentmember WHERE segment_id = %s AND NOT EXISTS"  # noqa: S608 - fixed names
            f" (SELECT 1 FROM {_WANTED} w WHERE w.contact_id = segments_segmentmember.contact_id)",
            [sid],
        )
        cursor.execute(
            "INSERT INTO segments_segmentmember (segment_id, contact_id, added_at)"
            f" SELECT %s, w.contact_id, %s{joiners}",
            [sid, now, sid],
        )
        cursor.execute(f"DROP TABLE {_WANTED}")
    _count(segment, now)
    return joined, left


def _count(segment: Segment, now: Any) -> None:
    Segment.objects.filter(pk=segment.pk).update(
        member_count=SegmentMember.objects.filter(segment_id=segment.pk).count(), refreshed_at=now
    )


@transaction.atomic
def segment_members_add(
    *, segment: Segment, by: Actor, contact_ids: Iterable[int] = (), query: object = None
) -> int:
    """Add contacts to a static segment: these ids, and/or the contacts a query finds now."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError("segment_dynamic", "A dynamic segment's members come from its query.")
    now = timezone.now()
    ids = sorted({int(i) for i in contact_ids})
    from leadcycle.crm.models import Contact

    wanted = set(Contact.objects.filter(pk__in=ids).values_list("id", flat=True)) if ids else set()
    missing = sorted(set(ids) - wanted)
    if missing:
        raise _error("contact_ids", f"No contact {missing[0]}.", "unknown_contact")
    if query is not None:
        condition, params = compiler.compile_sql(query_parse(query), now=now)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT c.id FROM crm_contact c WHERE {condition}", params)  # noqa: S608 - compiled, values as parameters
            wanted |= {row[0] for row in cursor.fetchall()}
    present = set(
        SegmentMember.objects.filter(segment=segment, contact_id__in=wanted).values_list(
            "contact_id", flat=True
        )
    )
    new = sorted(wanted - present)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, contact_id=pk, added_at=now) for pk in new],
        batch_size=5000,
    )
    MembershipChange.objects.bulk_create(
        [MembershipChange(segment=segment, contact_id=pk, change="joined", at=now) for pk in new],
        batch_size=5000,
    )
    _count(segment, now)
    return len(new)


@transaction.atomic
def segment_members_remove(*, segment: Segment, by: Actor, contact_ids: Iterable[int]) -> int:
    """Take contacts out of a static segment."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError("segment_dynamic", "A dynamic segment's members come from its query.")
    now = timezone.now()
    ids = sorted({int(i) for i in contact_ids})
    gone = list(
        SegmentMember.objects.filter(segment=segment, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    SegmentMember.objects.filter(segment=segment, contact_id__in=gone).delete()
    MembershipChange.objects.bulk_create(
        [MembershipChange(segment=segment, contact_id=pk, change="left", at=now) for pk in gone]
    )
    _count(segment, now)
    return len(gone)


@transaction.atomic
def segment_delete(*, segment: Segment, by: Actor) -> None:
    """Delete a segment no other segment uses."""
    users = [
        s.name
        for s in Segment.objects.exclude(pk=segment.pk)
        if segment.pk in references_of(s.query)
    ]
    if users:
        raise DomainError("segment_in_use", f"Used by {', '.join(users)}.")
    SegmentMember.objects.filter(segment=segment).delete()
    MembershipChange.objects.filter(segment=segment).delete()
    audit_record(
        actor=by,
        action=AuditEntry.Action.DELETE,
        instance=segment,
        before=record_snapshot(segment),
    )
    segment.delete()


def _live_order() -> list[Segment]:
    """Live dynamic segments, each after the segments it uses (their members first)."""
    live = {s.pk: s for s in Segment.objects.filter(status="live", kind="dynamic")}
    ordered: list[Segment] = []
    placed: set[int] = set()

    def place(pk: int, trail: frozenset[int]) -> None:
        if pk in placed or pk not in live or pk in trail:
            return
        for ref in sorted(references_of(live[pk].query)):
            place(ref, trail | {pk})
        placed.add(pk)
        ordered.append(live[pk])

    for pk in sorted(live):
        place(pk, frozenset())
    return ordered


@transaction.atomic
def contacts_reevaluate(
    *,
    contact_ids: Iterable[int] = (),
    lead_ids: Iterable[int] = (),
    account_ids: Iterable[int] = (),
    now: Any = None,
) -> int:
    """Near real time: re-evaluate only the contacts these changes touch (the contacts, the
    leads' parent contacts, the accounts' contacts) against every live dynamic segment: per
    segment, one query for which of them match, one for which are members, and the joins and
    leaves written in bulk. Returns how many memberships changed."""
    from leadcycle.crm.models import Contact, Lead

    ids = {int(i) for i in contact_ids}
    leads = list(lead_ids)
    if leads:
        ids |= set(
            Lead.objects.filter(pk__in=leads, parent_contact__isnull=False).values_list(
                "parent_contact_id", flat=True
            )
        )
    accounts = list(account_ids)
    if accounts:
        ids |= set(Contact.objects.filter(account_id__in=accounts).values_list("id", flat=True))
    segments = _live_order() if ids else []
    if not segments:
        return 0
    now = now or timezone.now()
    changed = 0
    chunk = sorted(ids)
    for segment in segments:
        condition, params = compiler.compile_sql(query_parse(segment.query), now=now)
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id FROM crm_contact c WHERE c.id IN ({marks}) AND ({condition})",  # noqa: S608 - compiled, values as parameters
                [*chunk, *params],
            )
            wanted = {row[0] for row in cursor.fetchall()}
        present = set(
            SegmentMember.objects.filter(segment=segment, contact_id__in=chunk).values_list(
                "contact_id", flat=True
            )
        )
        joined, left = sorted(wanted - present), sorted(present - wanted)
        if not joined and not left:
            continue
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, contact_id=pk, added_at=now) for pk in joined]
        )
        SegmentMember.objects.filter(segment=segment, contact_id__in=left).delete()
        MembershipChange.objects.bulk_create(
            [
                MembershipChange(segment=segment, contact_id=pk, change="joined", at=now)
                for pk in joined
            ]
            + [
                MembershipChange(segment=segment, contact_id=pk, change="left", at=now)
                for pk in left
            ]
        )
        Segment.objects.filter(pk=segment.pk).update(
            member_count=segment.member_count + len(joined) - len(left)
        )
        changed += len(joined) + len(left)
    return changed


def live_segments_exist() -> bool:
    return Segment.objects.filter(status="live", kind="dynamic").exists()


def on_records_committed(
    *, contact_ids: list[int], lead_ids: list[int], account_ids: list[int], **_: object
) -> None:
    """Receiver of ``leadcycle.changes.records_committed``: queue the re-evaluation."""
    if not live_segments_exist():
        return
    from leadcycle.segments.tasks import reevaluate

    reevaluate.enqueue(contact_ids, lead_ids, account_ids)


IMPORT_BATCH = 5000


@transaction.atomic
def segment_members_import(
    *, segment: Segment, by: Actor, upload: Any, file_name: str
) -> tuple[int, int]:
    """Add to a static segment the contacts a CSV or XLSX file names by email (the column
    whose header says email): (added, emails no contact has). Read as a stream, looked up
    and inserted a batch of 5,000 emails at a time."""
    import tempfile
    from pathlib import Path

    from leadcycle.crm.models import Contact
    from leadcycle.crm.normalize import normalize_email
    from leadcycle.imports import reader
    from leadcycle.imports.fields import suggest

    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError("segment_dynamic", "A dynamic segment's members come from its query.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members"
        with path.open("wb") as out:
            for chunk in iter(lambda: upload.read(1 << 20), b""):
                out.write(chunk)
        info = reader.inspect(path, file_name)
        mapping = suggest("contacts", info.headers)
        if "contact.email" not in mapping:
            raise _error(
                "file", "No column of emails (a header such as Email or E-mail).", "no_email_column"
            )
        column = mapping.index("contact.email")
        rows = reader.rows_of(path, info.file_format, info.encoding, info.delimiter)
        next(rows, None)
        added = missing = 0
        batch: set[str] = set()

        def flush() -> tuple[int, int]:
            found = set(
                Contact.objects.filter(email_normalized__in=batch).values_list("id", flat=True)
            )
            unknown = len(batch) - len(found)
            new = segment_members_add(segment=segment, by=by, contact_ids=found) if found else 0
            batch.clear()
            return new, unknown

        for cells in rows:
            email = normalize_email(cells[column]) if column < len(cells) else None
            if email:
                batch.add(email)
            if len(batch) >= IMPORT_BATCH:
                more, unknown = flush()
                added, missing = added + more, missing + unknown
        if batch:
            more, unknown = flush()
            added, missing = added + more, missing + unknown
    return added, missing
