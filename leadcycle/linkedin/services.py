"""Writes for the LinkedIn Lead Gen Forms sync (SPEC §2.5, §3).

- ``linkedin_response_apply`` turns one form response into records with the connector's one
  active strategy: the answers are mapped to record fields by question id; the contact is
  matched or created (or, with contact creation off, only an existing match is linked, else the
  lead stays an orphan); the lead is always created or matched on the mapped fields; a
  ``linkedin_form_submitted`` interaction is recorded. A response is applied once: its id is
  claimed first in ``ReceivedResponse`` (unique), so replays and concurrent syncs change nothing.
- ``linkedin_sync`` pulls the responses submitted since the stored cursor, page by page, then
  applies them and advances the cursor in one transaction, and logs a ``SyncRun``. When LinkedIn
  refuses (401, 429, 5xx…) the run records why and nothing is applied: the cursor stays.
- ``linkedin_notification_receive`` handles a verified webhook notification: a sync is
  enqueued after commit, unless every response it names was received already.
"""

import datetime
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import Actor, audit_record, record_snapshot
from leadcycle.crm.models import Account, Channel, Contact, Interaction, Lead
from leadcycle.crm.normalize import display_email, normalize_email
from leadcycle.errors import DomainError
from leadcycle.intake.fields import FIELDS
from leadcycle.intake.models import IntakeSettings, MatchingStrategy
from leadcycle.intake.selectors import records_matching
from leadcycle.intake.services import (
    account_find_or_create,
    contact_match_or_create,
    lead_match_or_create,
)
from leadcycle.interactions.services import interaction_record
from leadcycle.linkedin.client import LeadSyncApi, LeadSyncError
from leadcycle.linkedin.models import (
    Connector,
    FieldMapping,
    ReceivedResponse,
    SyncRun,
    form_id_of,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# LinkedIn keeps form responses for 365 days: the first sync asks for (nearly) all of them,
# a day short so the range is never older than LinkedIn allows.
FIRST_SYNC_DAYS = 364
RESPONSE_URN_PREFIX = "urn:li:leadGenFormResponse:"
_EMAIL = EmailValidator()


# Connector settings ----------------------------------------------------------------------------

SECRET_FIELDS = ("access_token", "client_secret")
_EDITABLE = frozenset(
    {
        "name",
        "enabled",
        "api_base_url",
        "access_token",
        "client_secret",
        "sponsored_accounts",
        "linkedin_version",
        "mode",
        "lead_strategy_id",
        "contact_strategy_id",
        "contact_creation_enabled",
        "lead_topic",
        "campaign",
    }
)
_AUDITED = [
    f.name
    for f in Connector._meta.concrete_fields
    if f.name not in {*SECRET_FIELDS, "cursor_submitted_at", "last_sync_at"}
]


def secret_masked(value: str) -> str:
    """How a stored secret is shown: never the secret, at most its last four characters."""
    if not value:
        return ""
    return "••••••••" + (value[-4:] if len(value) >= 16 else "")


def _connector_snapshot(connector: Connector) -> dict[str, Any]:
    # Secrets never reach the audit trail; a short fingerprint shows that one changed.
    snapshot = record_snapshot(connector, fields=_AUDITED)
    for name in SECRET_FIELDS:
        value = getattr(connector, name)
        snapshot[name] = f"set ({hashlib.sha256(value.encode()).hexdigest()[:8]})" if value else ""
    return snapshot


def connector_current() -> Connector:
    """The connector the settings page edits: the first one, created (disabled, with the intake
    default strategies) on first use."""
    connector = (
        Connector.objects.select_related("lead_strategy", "contact_strategy").order_by("id").first()
    )
    if connector is not None:
        return connector
    defaults = IntakeSettings.objects.order_by("id").first()
    return Connector.objects.create(
        contact_strategy=defaults.default_contact_strategy if defaults else None,
        lead_strategy=defaults.default_lead_strategy if defaults else None,
    )


@transaction.atomic
def connector_update(*, connector: Connector, by: Actor, data: Mapping[str, Any]) -> Connector:
    """Change the connector's settings. Secrets are replaced only when given; a new API address
    forgets the stored access token unless a token comes with it (the token is sent there)."""
    unknown = sorted(set(data) - _EDITABLE)
    if unknown:
        raise ValidationError(
            {name: ValidationError("Unknown field.", code="unknown_field") for name in unknown}
        )
    data = dict(data)
    if (
        "api_base_url" in data
        and (data["api_base_url"] or "") != connector.api_base_url
        and "access_token" not in data
    ):
        data["access_token"] = ""
    before = _connector_snapshot(connector)
    for name, value in data.items():
        setattr(connector, name, value if value is not None or name.endswith("_id") else "")
    connector.full_clean()
    if connector.enabled:
        missing: dict[str, str] = {}
        if not connector.access_token:
            missing["access_token"] = "An enabled connector needs an access token."
        if not connector.sponsored_account_urns():
            missing["sponsored_accounts"] = "An enabled connector needs a sponsored account."
        if missing:
            raise ValidationError(missing)
    connector.save()
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=connector,
        before=before,
        after=_connector_snapshot(connector),
    )
    return connector


def _mapping_save(mapping: FieldMapping, *, by: Actor, before: dict[str, Any] | None) -> None:
    mapping.full_clean(validate_constraints=False)
    clash = FieldMapping.objects.filter(
        connector_id=mapping.connector_id,
        form_urn=mapping.form_urn,
        question_id=mapping.question_id,
    ).exclude(pk=mapping.pk)
    duplicate = ValidationError(
        {
            "question_id": ValidationError(
                "This question is already mapped for this form.", code="duplicate"
            )
        }
    )
    if clash.exists():
        raise duplicate
    try:
        with transaction.atomic():
            mapping.save()
    except IntegrityError as exc:  # mapped a moment ago by someone else
        raise duplicate from exc
    audit_record(
        actor=by,
        action=AuditEntry.Action.CREATE if before is None else AuditEntry.Action.UPDATE,
        instance=mapping,
        before=before,
        after=record_snapshot(mapping),
    )


@transaction.atomic
def mapping_create(*, connector: Connector, by: Actor, data: Mapping[str, Any]) -> FieldMapping:
    """Map a LinkedIn question (of one form, or of every form) to a record field."""
    mapping = FieldMapping(
        connector=connector,
        form_urn=str(data.get("form_urn") or ""),
        question_id=str(data.get("question_id") or ""),
        maps_to=str(data.get("maps_to") or ""),
    )
    _mapping_save(mapping, by=by, before=None)
    return mapping


@transaction.atomic
def mapping_update(*, mapping: FieldMapping, by: Actor, data: Mapping[str, Any]) -> FieldMapping:
    before = record_snapshot(mapping)
    for name in ("form_urn", "question_id", "maps_to"):
        if name in data:
            setattr(mapping, name, str(data[name] or ""))
    _mapping_save(mapping, by=by, before=before)
    return mapping


@transaction.atomic
def mapping_delete(*, mapping: FieldMapping, by: Actor) -> None:
    audit_record(
        actor=by,
        action=AuditEntry.Action.DELETE,
        instance=mapping,
        before=record_snapshot(mapping),
    )
    mapping.delete()


# One response ----------------------------------------------------------------------------------


class MalformedResponse(ValueError):
    """A form response without the fields every response has (an id)."""


@dataclass(frozen=True)
class ParsedResponse:
    """What the sync reads from one LinkedIn form response."""

    response_id: str
    form_urn: str
    submitted_at_ms: int | None
    test_lead: bool
    answers: dict[str, str]  # questionId → text answer
    campaign_urn: str = ""

    @property
    def form_id(self) -> str:
        return form_id_of(self.form_urn)

    @property
    def origin_ref(self) -> str:
        """How leads name their LinkedIn form: ``linkedin:<form id>`` (every version of a form
        is one origin, so the default lead strategy finds one lead per person and form)."""
        return f"linkedin:{self.form_id or self.form_urn or 'unknown'}"[:200]

    @property
    def submitted_at(self) -> datetime.datetime | None:
        if self.submitted_at_ms is None:
            return None
        return datetime.datetime.fromtimestamp(self.submitted_at_ms / 1000, tz=datetime.UTC)


def response_id_of(value: object) -> str:
    """A response id from an element's ``id`` or a ``urn:li:leadGenFormResponse:<id>`` URN."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    return text.removeprefix(RESPONSE_URN_PREFIX)


def response_parse(data: object) -> ParsedResponse:
    """Read a ``leadFormResponses`` element; only text answers are mapped (others stay in the
    raw response). Raises ``MalformedResponse`` when there is no id."""
    if not isinstance(data, dict):
        raise MalformedResponse("A form response is a JSON object.")
    response_id = response_id_of(data.get("id"))
    if not response_id or len(response_id) > 200:
        raise MalformedResponse("A form response has no usable id.")
    submitted = data.get("submittedAt")
    submitted_ms = (
        submitted if isinstance(submitted, int) and not isinstance(submitted, bool) else None
    )
    if submitted_ms is not None and not 0 <= submitted_ms < 10**14:
        submitted_ms = None
    answers: dict[str, str] = {}
    form_response = data.get("formResponse")
    for answer in form_response.get("answers") or [] if isinstance(form_response, dict) else []:
        if not isinstance(answer, dict):
            continue
        details = answer.get("answerDetails")
        text_answer = details.get("textQuestionAnswer") if isinstance(details, dict) else None
        text = text_answer.get("answer") if isinstance(text_answer, dict) else None
        question = answer.get("questionId")
        if isinstance(text, str) and isinstance(question, int | str):
            answers[str(question)] = text
    metadata = data.get("leadMetadata")
    sponsored = metadata.get("sponsoredLeadMetadata") if isinstance(metadata, dict) else None
    campaign = sponsored.get("campaign") if isinstance(sponsored, dict) else None
    return ParsedResponse(
        response_id=response_id,
        form_urn=str(data.get("versionedLeadGenFormUrn") or "")[:200],
        submitted_at_ms=submitted_ms,
        test_lead=data.get("testLead") is True,
        answers=answers,
        campaign_urn=campaign if isinstance(campaign, str) else "",
    )


def _mapped_values(
    mappings: Sequence[FieldMapping], parsed: ParsedResponse
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The answers by record field path, and the errors of answers that cannot be used."""
    every_form = {m.question_id: m.maps_to for m in mappings if not m.form_urn}
    this_form = {
        m.question_id: m.maps_to for m in mappings if m.form_urn and m.form_id == parsed.form_id
    }
    values: dict[str, str] = {}
    errors: dict[str, dict[str, str]] = {}
    for question, path in {**every_form, **this_form}.items():
        text = parsed.answers.get(question, "").strip()
        if not text or path not in FIELDS:
            continue
        spec = FIELDS[path]
        if spec.kind == "email":
            text = display_email(text)
            try:
                _EMAIL(text)
            except ValidationError:
                errors[path] = {
                    "code": "invalid_email",
                    "message": f"Question {question}: not an email address.",
                }
                continue
        elif path == "contact.role":
            role = text.casefold().replace(" ", "_").replace("-", "_")
            if role not in Contact.Role.values:
                continue  # free text cannot say which role; the contact keeps its own
            text = role
        values[path] = text[: spec.max_length]
    return values, errors


def _strategy(chosen: MatchingStrategy | None, target: str) -> MatchingStrategy:
    if chosen is not None:
        return chosen
    defaults = IntakeSettings.objects.select_related(
        "default_contact_strategy", "default_lead_strategy"
    ).first()
    strategy = (
        (
            defaults.default_contact_strategy
            if target == "contact"
            else defaults.default_lead_strategy
        )
        if defaults
        else None
    )
    if strategy is None:
        raise DomainError(
            "strategy_missing", f"Choose a {target} matching strategy for the LinkedIn connector."
        )
    return strategy


def _known_contact(strategy: MatchingStrategy, values: Mapping[str, str]) -> Contact | None:
    """With contact creation off: the contact these values describe, if there is one."""
    matches = records_matching(strategy=strategy, values=values)
    if matches:
        return matches[0]  # type: ignore[return-value]
    email = normalize_email(values.get("contact.email"))
    if email:  # emails are unique: the same address is the same person, whatever the strategy
        return Contact.objects.filter(email_normalized=email).first()
    return None


@dataclass(frozen=True)
class ResponseApplied:
    received: ReceivedResponse
    new: bool  # False: received before, nothing was written


def linkedin_response_apply(
    *,
    connector: Connector,
    response_json: Mapping[str, Any],
    sync_run: SyncRun | None = None,
) -> ResponseApplied:
    """Apply one form response (a ``leadFormResponses`` element) once.

    A response received before is skipped: the stored record is returned and nothing is
    written. Values that cannot be used (an invalid email) reject the response; it is stored
    with its errors and no record is touched. Raises ``MalformedResponse`` without an id.
    """
    parsed = response_parse(response_json)
    earlier = ReceivedResponse.objects.filter(response_id=parsed.response_id).first()
    if earlier is not None:
        return ResponseApplied(earlier, False)
    with transaction.atomic():
        try:
            # The claim: a concurrent apply of the same response waits here for ours to commit,
            # then fails on the unique id and returns our record.
            with transaction.atomic():
                received = ReceivedResponse.objects.create(
                    connector=connector,
                    sync_run=sync_run,
                    response_id=parsed.response_id,
                    form_urn=parsed.form_urn,
                    submitted_at=parsed.submitted_at,
                    submitted_at_ms=parsed.submitted_at_ms,
                    test_lead=parsed.test_lead,
                    raw=dict(response_json),
                )
        except IntegrityError:
            return ResponseApplied(
                ReceivedResponse.objects.get(response_id=parsed.response_id), False
            )
        values, errors = _mapped_values(list(connector.mappings.all()), parsed)
        received.values = values
        if not errors:
            try:
                with transaction.atomic():
                    _records_apply(connector, parsed, values, received)
            except (ValidationError, DomainError) as exc:
                errors = _errors_of(exc)
        if errors:
            received.errors = errors
            received.outcome = ReceivedResponse.Outcome.REJECTED
            received.contact = received.lead = None
            received.contact_action = received.lead_action = ""
        received.save()
    return ResponseApplied(received, True)


def _errors_of(exc: ValidationError | DomainError) -> dict[str, dict[str, str]]:
    if isinstance(exc, DomainError):
        return {exc.code: {"code": exc.code, "message": exc.message}}
    if hasattr(exc, "error_dict"):
        return {
            name: {"code": errors[0].code or "invalid", "message": " ".join(errors[0].messages)}
            for name, errors in exc.error_dict.items()
        }
    return {"record": {"code": exc.code or "invalid", "message": " ".join(exc.messages)}}


def _records_apply(
    connector: Connector,
    parsed: ParsedResponse,
    values: dict[str, str],
    received: ReceivedResponse,
) -> None:
    contact_strategy = _strategy(connector.contact_strategy, "contact")
    contact: Contact | None
    account: Account | None = None
    if connector.contact_creation_enabled:
        account = account_find_or_create(values=values)
        matched = contact_match_or_create(
            strategy=contact_strategy, values=values, channel=Channel.LINKEDIN, account=account
        )
        contact, contact_action = matched.record, matched.action
    else:
        # Nothing is created or changed for people: link a contact we already know, else the
        # lead stays an orphan (SPEC §3).
        contact = _known_contact(contact_strategy, values)
        contact_action = "linked" if contact is not None else "none"
    lead_values: dict[str, object] = {**values, "lead.origin_ref": parsed.origin_ref}
    if contact is not None and not lead_values.get("contact.email"):
        lead_values["contact.email"] = contact.email
    always_create = connector.mode == Connector.Mode.ALWAYS_CREATE_LEAD
    matched_lead = lead_match_or_create(
        strategy=None if always_create else _strategy(connector.lead_strategy, "lead"),
        values=lead_values,
        contact=contact,
        account=account,
        channel=Channel.LINKEDIN,
        defaults={
            "topic": connector.lead_topic or "LinkedIn Lead Gen form",
            "campaign": connector.campaign,
            "origin_ref": parsed.origin_ref,
        },
    )
    lead: Lead = matched_lead.record
    attributes: dict[str, Any] = {
        "linkedin_response_id": parsed.response_id,
        "form_urn": parsed.form_urn,
        "received_id": received.pk,
    }
    if parsed.campaign_urn:
        attributes["linkedin_campaign"] = parsed.campaign_urn
    # Recorded for every response, credited to the contact when there is one (SPEC §3).
    interaction_record(
        kind=Interaction.Kind.LINKEDIN_FORM_SUBMITTED,
        contact_id=contact.pk if contact is not None else None,
        lead_id=lead.pk,
        campaign=lead.campaign or connector.campaign,
        attributes=attributes,
        occurred_at=parsed.submitted_at,
    )
    received.contact = contact
    received.lead = lead
    received.contact_action = contact_action
    received.lead_action = matched_lead.action
    received.outcome = (
        ReceivedResponse.Outcome.CREATED
        if matched_lead.action == "created"
        else ReceivedResponse.Outcome.UPDATED
    )


# Sync ------------------------------------------------------------------------------------------


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _api(connector: Connector) -> LeadSyncApi:
    return LeadSyncApi(
        base_url=connector.api_base_url,
        access_token=connector.access_token,
        version=connector.linkedin_version,
    )


def _ready(connector: Connector) -> None:
    if not connector.enabled:
        raise DomainError("connector_disabled", "The LinkedIn connector is not enabled.")
    if not connector.access_token or not connector.sponsored_account_urns():
        raise DomainError(
            "connector_not_configured",
            "Give the LinkedIn connector an access token and a sponsored account first.",
        )


@transaction.atomic
def linkedin_sync_request(*, connector: Connector, trigger: str, by: Actor = None) -> SyncRun:
    """Queue a sync (*Sync now*): the run is logged as queued and runs in the background."""
    _ready(connector)
    run = SyncRun.objects.create(
        connector=connector,
        trigger=trigger,
        status=SyncRun.Status.QUEUED,
        requested_by=by if by is not None and by.is_authenticated else None,
        cursor_before=connector.cursor_submitted_at,
    )
    from leadcycle.linkedin.tasks import linkedin_sync_task

    connector_id, run_id = connector.pk, run.pk
    transaction.on_commit(lambda: linkedin_sync_task.enqueue(connector_id, trigger, run_id))
    return run


@dataclass
class _Fetched:
    in_range: list[dict[str, Any]] = field(default_factory=list)
    named: list[dict[str, Any]] = field(default_factory=list)


def _fetch(
    connector: Connector, *, since: int, until: int, page_size: int, response_ids: Sequence[str]
) -> _Fetched:
    api = _api(connector)
    fetched = _Fetched()
    for owner in connector.sponsored_account_urns():
        fetched.in_range += api.responses(
            owner_urn=owner, submitted_from=since, submitted_to=until, count=page_size
        )
    # Responses a notification named but the finder did not list (LinkedIn may list a response
    # a little later than it notifies): fetched one by one.
    listed = {response_id_of(e.get("id")) for e in fetched.in_range}
    missing = [
        rid
        for rid in dict.fromkeys(response_ids)
        if rid not in listed and not ReceivedResponse.objects.filter(response_id=rid).exists()
    ]
    for rid in missing:
        element = api.response(rid)
        if element is not None:
            fetched.named.append(element)
    return fetched


def linkedin_sync(
    *,
    connector: Connector,
    trigger: str,
    by: Actor = None,
    run: SyncRun | None = None,
    page_size: int = PAGE_SIZE,
    response_ids: Sequence[str] = (),
) -> SyncRun:
    """Pull the responses submitted since the cursor and apply them; returns the logged run.

    Everything is fetched first (no database transaction is held while LinkedIn answers); then
    the responses are applied, the cursor advances to the newest ``submittedAt`` fetched and the
    run is marked succeeded, all in one transaction. An HTTP error (401, 429, 5xx), an
    unreachable API or an unreadable answer fails the run with the reason: nothing is applied
    and the cursor stays. Raises ``DomainError`` when the connector is disabled or incomplete.
    """
    _ready(connector)
    connector.refresh_from_db(fields=["cursor_submitted_at"])
    if run is None:
        run = SyncRun.objects.create(
            connector=connector,
            trigger=trigger,
            requested_by=by if by is not None and by.is_authenticated else None,
        )
    run.status = SyncRun.Status.RUNNING
    run.cursor_before = connector.cursor_submitted_at
    run.save(update_fields=["status", "cursor_before"])
    until = _now_ms()
    since = connector.cursor_submitted_at
    if since is None:
        since = until - FIRST_SYNC_DAYS * 24 * 3600 * 1000
    try:
        fetched = _fetch(
            connector, since=since, until=until, page_size=page_size, response_ids=response_ids
        )
    except LeadSyncError as exc:
        return _run_failed(run, exc.message, http_status=exc.status)
    try:
        with transaction.atomic():
            _batch_apply(connector.pk, run, fetched)
    except Exception as exc:  # a bug or a database failure: the batch was rolled back
        logger.exception("LinkedIn sync %s failed while applying responses", run.pk)
        return _run_failed(run, f"Applying the responses failed: {exc}")
    connector.refresh_from_db(fields=["cursor_submitted_at", "last_sync_at"])
    return run


def _batch_apply(connector_id: int, run: SyncRun, fetched: _Fetched) -> None:
    # Locked: two syncs of one connector apply (and move its cursor) one after the other.
    connector = (
        Connector.objects.select_for_update(of=("self",))
        .select_related("lead_strategy", "contact_strategy")
        .prefetch_related("mappings")
        .get(pk=connector_id)
    )
    counts = {"created": 0, "updated": 0, "skipped": 0, "rejected": 0}
    errors: list[str] = []
    newest: int | None = None
    # Oldest first, whatever order LinkedIn lists them in: later answers update earlier ones.
    ordered = sorted(fetched.in_range + fetched.named, key=_submitted_key)
    # Responses received before are skipped on one query, however many come back.
    known = set(
        ReceivedResponse.objects.filter(
            response_id__in={response_id_of(e.get("id")) for e in ordered}
        ).values_list("response_id", flat=True)
    )
    for element in ordered:
        if response_id_of(element.get("id")) in known:
            counts["skipped"] += 1
            continue
        try:
            applied = linkedin_response_apply(
                connector=connector, response_json=element, sync_run=run
            )
        except MalformedResponse as exc:
            counts["rejected"] += 1
            errors.append(str(exc))
            continue
        outcome = applied.received.outcome
        if not applied.new:
            counts["skipped"] += 1
        elif outcome == ReceivedResponse.Outcome.REJECTED:
            counts["rejected"] += 1
        else:
            counts[str(outcome)] += 1
    for element in fetched.in_range:
        submitted = element.get("submittedAt")
        if isinstance(submitted, int) and not isinstance(submitted, bool):
            newest = submitted if newest is None else max(newest, submitted)
    if newest is not None and (
        connector.cursor_submitted_at is None or newest > connector.cursor_submitted_at
    ):
        connector.cursor_submitted_at = newest
    connector.last_sync_at = timezone.now()
    connector.save(update_fields=["cursor_submitted_at", "last_sync_at", "updated_at"])
    run.fetched = len(fetched.in_range) + len(fetched.named)
    run.created = counts["created"]
    run.updated = counts["updated"]
    run.skipped = counts["skipped"]
    run.rejected = counts["rejected"]
    run.cursor_after = connector.cursor_submitted_at
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.error = "\n".join(dict.fromkeys(errors))[:2000]
    run.save()


def _submitted_key(element: Mapping[str, Any]) -> tuple[int, int]:
    submitted = element.get("submittedAt")
    if isinstance(submitted, int) and not isinstance(submitted, bool):
        return (0, submitted)
    return (1, 0)


def _run_failed(run: SyncRun, message: str, *, http_status: int | None = None) -> SyncRun:
    run.status = SyncRun.Status.FAILED
    run.http_status = http_status
    run.error = message[:2000]
    run.finished_at = timezone.now()
    run.cursor_after = run.cursor_before
    run.save()
    return run


# Webhook -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationOutcome:
    status: str  # accepted, duplicate, ignored
    response_ids: tuple[str, ...] = ()


def lead_notification_response_ids(payload: object) -> list[str]:
    """The response ids of the new leads a lead notification names (``LEAD_ACTION`` with
    ``leadAction`` ``CREATED``; one object, or a list of them)."""
    items = payload if isinstance(payload, list) else [payload]
    ids: list[str] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "LEAD_ACTION":
            continue
        if item.get("leadAction", "CREATED") != "CREATED":
            continue  # DELETED: acknowledged; what was synced stays (see docs/linkedin.md)
        response_id = response_id_of(item.get("leadGenFormResponse"))
        if response_id:
            ids.append(response_id)
    return list(dict.fromkeys(ids))


@transaction.atomic
def linkedin_notification_receive(*, connector: Connector, payload: object) -> NotificationOutcome:
    """A verified lead notification: enqueue a sync of the connector after commit, which also
    fetches the named responses; nothing is enqueued when all of them were received before (a
    replayed notification) or the connector is off."""
    response_ids = lead_notification_response_ids(payload)
    if not response_ids or not connector.enabled:
        return NotificationOutcome("ignored", tuple(response_ids))
    known = set(
        ReceivedResponse.objects.filter(response_id__in=response_ids).values_list(
            "response_id", flat=True
        )
    )
    new = [rid for rid in response_ids if rid not in known]
    if not new:
        return NotificationOutcome("duplicate", tuple(response_ids))
    from leadcycle.linkedin.tasks import linkedin_sync_task

    connector_id = connector.pk
    transaction.on_commit(
        lambda: linkedin_sync_task.enqueue(connector_id, SyncRun.Trigger.WEBHOOK, None, new)
    )
    return NotificationOutcome("accepted", tuple(new))
