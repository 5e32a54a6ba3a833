"""Recording interactions (SPEC §1): the one way every module writes them.

- ``interaction_record``: one interaction, from code (forms, events, LinkedIn, tracking).
- ``interactions_ingest``: a batch from an outside system (the API, up to ``BATCH_LIMIT``).
  Every row is checked on its own: a bad row is reported with its index, field and reason and
  the good rows are recorded regardless. Set-based: the contacts and leads the rows name are
  looked up with one query each, and the rows are written with one multi-row insert.
- Website visits (``website_visit_record``), email opens and clicks (``email_open_record``,
  ``email_click_record``) from the public tracking endpoints.

Interactions are append-only. An event that carries an ``idempotency_key`` is recorded once:
the key is unique in the database and the insert skips a key it already holds, so a retried
batch, even one sent twice at the same moment, records nothing twice.

Anonymous visits are kept with the visitor's id and no contact; ``visitor_identify`` attaches
them to the contact once the visitor becomes known (a form submission or the known-visitor
cookie), so that they count for that contact from then on.
"""

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import Actor, audit_create, audit_record, record_snapshot
from leadcycle.bulk import insert_rows
from leadcycle.changes import records_changed
from leadcycle.crm.models import Contact, Interaction, Lead
from leadcycle.crm.normalize import normalize_email
from leadcycle.errors import DomainError
from leadcycle.interactions.models import InteractionKind
from leadcycle.interactions.selectors import BUILTIN_KINDS, kinds_known

BATCH_LIMIT = 10_000
ATTRIBUTES_MAX_BYTES = 8 * 1024
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
"""An event may be stamped this far ahead of the server's clock (clock skew), not more."""
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EVENT_FIELDS = frozenset(
    {"kind", "occurred_at", "contact_id", "email", "lead_id", "campaign", "attributes",
     "idempotency_key"}
)  # fmt: skip


# One interaction ------------------------------------------------------------------------------


def interaction_record(
    *,
    kind: str,
    contact_id: int | None,
    lead_id: int | None = None,
    campaign: str = "",
    attributes: Mapping[str, Any] | None = None,
    occurred_at: datetime.datetime | None = None,
    visitor_id: str = "",
    idempotency_key: str | None = None,
) -> Interaction:
    """Record something a contact (or an anonymous visitor) did. With ``idempotency_key``, a
    second call with the same key returns the first interaction and records nothing."""
    values = {
        "kind": kind,
        "contact_id": contact_id,
        "lead_id": lead_id,
        "campaign": campaign[:200],
        "attributes": dict(attributes or {}),
        "occurred_at": occurred_at or timezone.now(),
        "visitor_id": visitor_id,
    }
    if not idempotency_key:
        interaction = Interaction.objects.create(**values)
    else:
        try:
            with transaction.atomic():
                interaction = Interaction.objects.create(**values, idempotency_key=idempotency_key)
        except IntegrityError:
            return Interaction.objects.get(idempotency_key=idempotency_key)
    # After the insert: outside a transaction the rescoring is queued at once.
    records_changed(contact_ids=[contact_id])
    return interaction


# Batches --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    index: int
    field: str
    code: str
    message: str


@dataclass
class IngestResult:
    """What a batch did: ``created`` and ``duplicates`` are input indexes."""

    created: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    """Ids of the interactions recorded (not in input order)."""

    @property
    def rejected(self) -> list[int]:
        return sorted({e.index for e in self.errors})


@dataclass
class _Row:
    index: int
    kind: str
    occurred_at: datetime.datetime
    contact_id: int | None
    email: str | None
    lead_id: int | None
    campaign: str
    attributes: dict[str, Any]
    idempotency_key: str | None


def _parse_row(index: int, raw: object, kinds: Mapping[str, str], now: datetime.datetime) -> _Row:
    """Check one event; raises ``_Rejected`` naming the first field at fault."""
    if not isinstance(raw, Mapping):
        raise _Rejected(index, "event", "invalid_type", "Each event is a JSON object.")
    unknown = sorted(set(raw) - EVENT_FIELDS)
    if unknown:
        raise _Rejected(index, unknown[0], "unknown_field", "Unknown field.")
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        raise _Rejected(index, "kind", "required", "Give the kind of interaction.")
    if kind not in kinds:
        raise _Rejected(
            index,
            "kind",
            "unknown_kind",
            f"Unknown kind {kind!r}; an administrator registers custom kinds.",
        )
    occurred = raw.get("occurred_at")
    when = now
    if occurred not in (None, ""):
        parsed = _time(occurred)
        if parsed is None:
            raise _Rejected(
                index, "occurred_at", "invalid", "Use an ISO 8601 time, e.g. 2026-11-30T14:05:00Z."
            )
        when = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)
        if when > now + FUTURE_TOLERANCE:
            raise _Rejected(index, "occurred_at", "in_future", "The time is in the future.")
    contact_id = _optional_id(index, raw, "contact_id")
    lead_id = _optional_id(index, raw, "lead_id")
    email = raw.get("email")
    if email is not None and not isinstance(email, str):
        raise _Rejected(index, "email", "invalid_type", "Expected a string.")
    email_normalized = normalize_email(email) if email else None
    if contact_id is None and email_normalized is None and lead_id is None:
        raise _Rejected(
            index, "contact_id", "required", "Name the contact: contact_id, email or lead_id."
        )
    campaign = raw.get("campaign") or ""
    if not isinstance(campaign, str) or len(campaign) > 200:
        raise _Rejected(index, "campaign", "invalid", "A text of at most 200 characters.")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise _Rejected(index, "attributes", "invalid_type", "Expected a JSON object.")
    if len(json.dumps(attributes, default=str)) > ATTRIBUTES_MAX_BYTES:
        raise _Rejected(
            index, "attributes", "too_large", f"At most {ATTRIBUTES_MAX_BYTES} bytes of JSON."
        )
    key = raw.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key.strip()) <= 200):
        raise _Rejected(index, "idempotency_key", "invalid", "A text of 1 to 200 characters.")
    return _Row(
        index=index,
        kind=kind,
        occurred_at=when,
        contact_id=contact_id,
        email=email_normalized,
        lead_id=lead_id,
        campaign=campaign.strip(),
        attributes=attributes,
        idempotency_key=key.strip() if isinstance(key, str) else None,
    )


def _time(value: object) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value.strip())
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


def _optional_id(index: int, raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Rejected(index, name, "invalid_type", "Expected a positive integer id.")
    return value


@dataclass
class _Rejected(Exception):
    index: int
    field: str
    code: str
    message: str


_INGEST_COLUMNS = (
    "kind",
    "occurred_at",
    "contact_id",
    "lead_id",
    "campaign",
    "attributes",
    "idempotency_key",
    "visitor_id",
    "created_at",
)


def interactions_ingest(*, events: Sequence[object]) -> IngestResult:
    """Record a batch of events from an outside system (see the module docstring).

    Each event: ``kind`` (built-in or registered), the contact as ``contact_id`` or ``email``
    (or only ``lead_id``: the lead's contact), optional ``lead_id`` (a lead of that contact),
    ``occurred_at`` (ISO 8601, default now), ``campaign``, ``attributes`` (a JSON object) and
    ``idempotency_key``. Raises ``DomainError`` for a batch over ``BATCH_LIMIT``.
    """
    if len(events) > BATCH_LIMIT:
        raise DomainError(
            "batch_too_large",
            f"At most {BATCH_LIMIT:,} events per batch; split this one.",
            fields={"events": f"{len(events):,} events."},
            status=413,
        )
    result = IngestResult()
    kinds = kinds_known()
    now = timezone.now()
    rows: list[_Row] = []
    for index, raw in enumerate(events):
        try:
            rows.append(_parse_row(index, raw, kinds, now))
        except _Rejected as rejected:
            result.errors.append(RowError(**vars(rejected)))
    rows = _resolve_references(rows, result)
    with transaction.atomic():
        inserted = insert_rows(
            Interaction,
            [
                {
                    "kind": row.kind,
                    "occurred_at": row.occurred_at,
                    "contact_id": row.contact_id,
                    "lead_id": row.lead_id,
                    "campaign": row.campaign,
                    "attributes": row.attributes,
                    "idempotency_key": row.idempotency_key,
                    "visitor_id": "",
                    "created_at": now,
                }
                for row in rows
            ],
            columns=_INGEST_COLUMNS,
            skip_conflicts_on="idempotency_key",
            returning=("id", "idempotency_key"),
        )
    result.created_ids = [pk for pk, _ in inserted]
    if inserted:
        records_changed(contact_ids=[row.contact_id for row in rows])
    new_keys = {key for _, key in inserted if key is not None}
    seen: set[str] = set()
    for row in rows:
        key = row.idempotency_key
        if key is None or (key in new_keys and key not in seen):
            result.created.append(row.index)
        else:
            result.duplicates.append(row.index)
        if key is not None:
            seen.add(key)
    result.errors.sort(key=lambda e: e.index)
    return result


def _resolve_references(rows: list[_Row], result: IngestResult) -> list[_Row]:
    """Fill in contact ids from emails and leads, and drop rows naming records that do not
    exist or do not belong together. Three queries, whatever the number of rows."""
    emails = {row.email for row in rows if row.email and row.contact_id is None}
    by_email = dict(
        Contact.objects.filter(email_normalized__in=emails)
        .order_by()
        .values_list("email_normalized", "id")
        if emails
        else []
    )
    contact_ids = {row.contact_id for row in rows if row.contact_id is not None}
    existing_contacts = set(
        Contact.objects.filter(pk__in=contact_ids).order_by().values_list("id", flat=True)
        if contact_ids
        else []
    )
    lead_ids = {row.lead_id for row in rows if row.lead_id is not None}
    lead_contacts = dict(
        Lead.objects.filter(pk__in=lead_ids).order_by().values_list("id", "parent_contact_id")
        if lead_ids
        else []
    )
    kept: list[_Row] = []
    for row in rows:
        try:
            if row.contact_id is not None and row.contact_id not in existing_contacts:
                raise _Rejected(
                    row.index, "contact_id", "unknown_contact", f"No contact {row.contact_id}."
                )
            if row.contact_id is None and row.email:
                if row.email not in by_email:
                    raise _Rejected(
                        row.index, "email", "unknown_contact", "No contact has this email."
                    )
                row.contact_id = by_email[row.email]
            if row.lead_id is not None:
                if row.lead_id not in lead_contacts:
                    raise _Rejected(row.index, "lead_id", "unknown_lead", f"No lead {row.lead_id}.")
                parent = lead_contacts[row.lead_id]
                if row.contact_id is None:
                    if parent is None:
                        raise _Rejected(
                            row.index,
                            "lead_id",
                            "contact_required",
                            "This lead has no contact; name the contact too.",
                        )
                    row.contact_id = parent
                elif parent is not None and parent != row.contact_id:
                    raise _Rejected(
                        row.index,
                        "lead_id",
                        "lead_contact_mismatch",
                        f"Lead {row.lead_id} belongs to another contact.",
                    )
        except _Rejected as rejected:
            result.errors.append(RowError(**vars(rejected)))
            continue
        kept.append(row)
    return kept


# Custom kinds ---------------------------------------------------------------------------------


@transaction.atomic
def interaction_kind_create(*, by: Actor, data: Mapping[str, Any]) -> InteractionKind:
    """Register a custom kind. Its key may not be a built-in kind's."""
    key = str(data.get("key") or "").strip()
    if key in BUILTIN_KINDS:
        raise ValidationError(
            {"key": ValidationError(f"“{key}” is a built-in kind.", code="duplicate")}
        )
    kind = InteractionKind(
        key=key,
        label=str(data.get("label") or "").strip(),
        description=str(data.get("description") or "").strip(),
    )
    kind.full_clean()
    kind.save()
    audit_create(actor=by, instance=kind)
    return kind


@transaction.atomic
def interaction_kind_delete(*, kind: InteractionKind, by: Actor) -> None:
    """Remove a custom kind nothing has recorded yet; a used kind stays, so that the recorded
    interactions keep a meaning."""
    used = Interaction.objects.filter(kind=kind.key).count()
    if used:
        raise DomainError(
            "kind_in_use",
            f"{used:,} interaction{'s' if used != 1 else ''} of kind “{kind.key}” exist; a "
            "used kind cannot be removed.",
        )
    audit_record(
        actor=by, action=AuditEntry.Action.DELETE, instance=kind, before=record_snapshot(kind)
    )
    kind.delete()


# Website visits and anonymous visitors ---------------------------------------------------------


def visitor_id_valid(value: object) -> bool:
    return isinstance(value, str) and bool(VISITOR_ID.match(value))


@transaction.atomic
def website_visit_record(
    *,
    url: str,
    title: str = "",
    referrer: str = "",
    visitor_id: str = "",
    contact_id: int | None = None,
) -> Interaction:
    """A page view reported by the tracking script: credited to the contact when the visitor
    is known, otherwise kept under the anonymous visitor's id."""
    if contact_id is not None and not Contact.objects.filter(pk=contact_id).exists():
        from leadcycle.duplicates.selectors import contact_survivor_id

        # A cookie of a contact merged since counts for the survivor; deleted since: nobody.
        contact_id = contact_survivor_id(contact_id)
    visit = interaction_record(
        kind=Interaction.Kind.WEBSITE_VISITED,
        contact_id=contact_id,
        attributes={"url": url[:2000], "title": title[:300], "referrer": referrer[:2000]},
        visitor_id=visitor_id,
    )
    if contact_id is not None and visitor_id:
        visitor_identify(visitor_id=visitor_id, contact_id=contact_id)
    return visit


def visitor_identify(*, visitor_id: str, contact_id: int) -> int:
    """Credit the anonymous visits of ``visitor_id`` to the contact; how many were attached.
    One ``UPDATE``; visits already credited to a contact are left alone."""
    if not visitor_id_valid(visitor_id):
        return 0
    attached = Interaction.objects.filter(visitor_id=visitor_id, contact__isnull=True).update(
        contact_id=contact_id
    )
    if attached:
        records_changed(contact_ids=[contact_id])
    return attached


# Email opens and clicks ----------------------------------------------------------------------

_TRACKING_SALT = "leadcycle.interactions.tracking"
_URL = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class TrackedLinks:
    click_path: str
    open_path: str


def tracked_links(
    *, contact_id: int, url: str, message: str, lead_id: int | None = None, campaign: str = ""
) -> TrackedLinks:
    """The click and open-pixel paths for one email to one contact. The target URL travels
    inside the signed token, so the redirect only ever goes where the app sent it."""
    try:
        _URL(url)
    except ValidationError:
        raise ValidationError(
            {"url": ValidationError("Give an http(s) URL.", code="invalid")}
        ) from None
    if not Contact.objects.filter(pk=contact_id).exists():
        raise ValidationError(
            {"contact_id": ValidationError(f"No contact {contact_id}.", code="does_not_exist")}
        )
    base = {"c": contact_id, "m": message[:200], "l": lead_id, "k": campaign[:200]}
    click = signing.dumps({**base, "u": url}, salt=_TRACKING_SALT, compress=True)
    opened = signing.dumps(base, salt=_TRACKING_SALT, compress=True)
    return TrackedLinks(click_path=f"/t/c/{click}", open_path=f"/t/o/{opened}.gif")


def _token(token: str) -> dict[str, Any] | None:
    try:
        value = signing.loads(token, salt=_TRACKING_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("c"), int) else None


def token_url(token: str) -> str | None:
    """Where a valid click token goes, recording nothing; ``None`` for a forged one."""
    value = _token(token)
    url = value.get("u") if value else None
    return url if isinstance(url, str) else None


@transaction.atomic
def email_open_record(*, token: str) -> Interaction | None:
    """Record an ``email_opened`` for a valid pixel token; ``None`` for a forged one."""
    value = _token(token)
    if value is None or not Contact.objects.filter(pk=value["c"]).exists():
        return None
    return interaction_record(
        kind=Interaction.Kind.EMAIL_OPENED,
        contact_id=value["c"],
        lead_id=_existing_lead(value.get("l")),
        campaign=str(value.get("k") or ""),
        attributes={"message": value.get("m", "")},
    )


@transaction.atomic
def email_click_record(*, token: str) -> str | None:
    """Record an ``email_clicked`` for a valid link token and return where it goes; ``None``
    for a forged or altered token (then nothing is recorded and nobody is redirected)."""
    value = _token(token)
    if value is None or not isinstance(value.get("u"), str):
        return None
    url: str = value["u"]
    if Contact.objects.filter(pk=value["c"]).exists():
        interaction_record(
            kind=Interaction.Kind.EMAIL_CLICKED,
            contact_id=value["c"],
            lead_id=_existing_lead(value.get("l")),
            campaign=str(value.get("k") or ""),
            attributes={"message": value.get("m", ""), "url": url},
        )
    return url


def _existing_lead(lead_id: object) -> int | None:
    if isinstance(lead_id, int) and Lead.objects.filter(pk=lead_id).exists():
        return lead_id
    return None
