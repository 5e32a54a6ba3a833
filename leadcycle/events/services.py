"""Writes for events: events, registrations (public and staff), cancellation with waitlist
promotion, check-in, and the demo events.

Registering (SPEC §2.4, §3): the event's registrant matching (email, first + last name, or
both) finds or creates the contact through intake's race-safe matching; with ``create_leads``
a **new** lead is created for every registration (no lead matching); an ``event_registered``
interaction is recorded. A person has at most one active registration per event — a database
constraint — so a second registration answers with the first.

Seats: every registration, cancellation and capacity change locks the event row first
(``SELECT … FOR UPDATE``; SQLite serialises writers anyway), so two concurrent registrations
can never both take the last seat, and a freed seat goes to the oldest waitlisted registrant
in the same transaction. Lock order is always event, then registrations.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import Actor, audit_record, record_snapshot
from leadcycle.crm.models import Channel, Contact, Interaction, Lead
from leadcycle.crm.normalize import display_email
from leadcycle.errors import DomainError
from leadcycle.events.models import Event, Registration, RejectedRegistration
from leadcycle.events.selectors import event_seats, registration_open
from leadcycle.intake.models import MatchingStrategy
from leadcycle.intake.services import (
    DEFAULT_CONTACT_STRATEGY,
    HONEYPOT_FIELD,
    Matched,
    account_find_or_create,
    contact_match_or_create,
    lead_match_or_create,
)
from leadcycle.interactions.services import interaction_record

_S = Registration.Status
_EMAIL = EmailValidator()

# Channels a registration arrives by. The public ones are refused once the event has ended;
# staff may record registrations afterwards (walk-ins, imports).
PUBLIC_CHANNELS = frozenset({"page", "api"})
CHANNELS = PUBLIC_CHANNELS | {"staff", "demo"}


# Registrant matching ---------------------------------------------------------------------------

# The three built-in contact strategies, one per ``Event.Matching`` choice. Matching by email
# shares intake's default strategy, so a form and an event racing to create the same new
# person claim the same match key.
MATCHING_STRATEGIES: dict[str, tuple[str, list[str], str]] = {
    Event.Matching.EMAIL: DEFAULT_CONTACT_STRATEGY,
    Event.Matching.NAME: (
        "Contact by first and last name",
        ["contact.first_name", "contact.last_name"],
        "Event registrants: one contact per first + last name, whatever the email.",
    ),
    Event.Matching.EMAIL_AND_NAME: (
        "Contact by email, first and last name",
        ["contact.email", "contact.first_name", "contact.last_name"],
        "Event registrants: the same email and the same first + last name.",
    ),
}


def event_matching_strategy(*, matching: str) -> MatchingStrategy:
    """The contact strategy of a registrant-matching choice: the oldest contact strategy with
    exactly its fields, created under the built-in name when there is none."""
    name, fields, description = MATCHING_STRATEGIES[matching]
    for strategy in MatchingStrategy.objects.filter(target="contact").order_by("id"):
        if strategy.fields == fields:
            return strategy
    taken = MatchingStrategy.objects.filter(name=name).exists()
    try:
        with transaction.atomic():
            return MatchingStrategy.objects.create(
                name=f"{name} (events)" if taken else name,
                target="contact",
                fields=fields,
                description=description,
            )
    except IntegrityError:  # created concurrently: use that one
        return MatchingStrategy.objects.get(name=f"{name} (events)" if taken else name)


def event_strategies_ensure(**signal_kwargs: object) -> None:
    """The three registrant strategies exist (runs after every ``migrate`` and flush)."""
    for matching in Event.Matching.values:
        event_matching_strategy(matching=matching)


# Events ----------------------------------------------------------------------------------------

_EVENT_FIELDS = frozenset(
    {
        "name",
        "slug",
        "description",
        "starts_at",
        "ends_at",
        "location",
        "capacity",
        "waitlist_enabled",
        "create_leads",
        "lead_topic",
        "campaign",
        "registrant_matching",
        "is_published",
    }
)


def _event_snapshot(event: Event) -> dict[str, Any]:
    return record_snapshot(event)


def _unique_slug(name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:70] or "event"
    slug, n = base, 1
    others = Event.objects.exclude(pk=exclude_pk) if exclude_pk else Event.objects.all()
    while others.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _event_assign(event: Event, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if key not in _EVENT_FIELDS:
            raise ValidationError({key: ValidationError("Unknown field.", code="unknown_field")})
        text = key not in {"starts_at", "ends_at", "capacity"} and not isinstance(value, bool)
        setattr(event, key, "" if value is None and text else value)
    if not event.slug and event.name:
        event.slug = _unique_slug(event.name, event.pk)
    if event.starts_at and event.ends_at and event.ends_at < event.starts_at:
        raise ValidationError(
            {"ends_at": ValidationError("The end must not be before the start.", code="invalid")}
        )


def _event_save(event: Event) -> None:
    # The check constraints are checked in Python by _event_assign and the field choices;
    # Django would spend a query on each. The database still holds them.
    event.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError as exc:  # a concurrent request took the slug first
        if Event.objects.filter(slug=event.slug).exclude(pk=event.pk or 0).exists():
            raise ValidationError(
                {"slug": ValidationError("Another event already uses this address.", "unique")}
            ) from exc
        raise


@transaction.atomic
def event_create(*, by: Actor, data: Mapping[str, Any]) -> Event:
    """Create an event; an empty slug is made from the name."""
    event = Event()
    _event_assign(event, data)
    _event_save(event)
    audit_record(
        actor=by, action=AuditEntry.Action.CREATE, instance=event, after=_event_snapshot(event)
    )
    return event


@transaction.atomic
def event_update(*, event: Event, by: Actor, data: Mapping[str, Any]) -> Event:
    """Change an event. More seats (or none left to count) promote waitlisted registrants."""
    locked = Event.objects.select_for_update().get(pk=event.pk)
    before = _event_snapshot(locked)
    _event_assign(locked, data)
    _event_save(locked)
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=locked,
        before=before,
        after=_event_snapshot(locked),
    )
    if before["capacity"] != locked.capacity:
        _fill_seats(locked, by=by)
    for name in _EVENT_FIELDS:
        setattr(event, name, getattr(locked, name))
    event.updated_at = locked.updated_at
    return event


@transaction.atomic
def event_delete(*, event: Event, by: Actor) -> None:
    """Delete an event that has no registrations (with registrations: unpublish it)."""
    if Registration.objects.filter(event=event).exists():
        raise DomainError(
            "event_has_registrations",
            "This event has registrations and cannot be deleted; unpublish it instead.",
        )
    pk = event.pk
    audit_record(
        actor=by, action=AuditEntry.Action.DELETE, instance=event, before=_event_snapshot(event)
    )
    RejectedRegistration.objects.filter(event=event).delete()
    event.delete()
    event.pk = pk


# Registrations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationResult:
    """``created``: a new registration. ``replayed``: the same request again (same
    ``Idempotency-Key``), answered with the registration it created."""

    registration: Registration
    created: bool
    replayed: bool = False


@dataclass
class RegistrationRejected(Exception):
    """Invalid values (``errors`` by field) or the bot trap (``spam``); the attempt is stored
    as a ``RejectedRegistration`` and nothing else is written."""

    errors: dict[str, dict[str, str]]
    spam: bool = False


# Submitted field -> (maximum length, record field it fills).
_TEXT_FIELDS: dict[str, tuple[int, str]] = {
    "email": (254, "contact.email"),
    "first_name": (100, "contact.first_name"),
    "last_name": (100, "contact.last_name"),
    "company": (200, "account.name"),
    "job_title": (150, "contact.job_title"),
    "phone": (50, "contact.phone"),
    "country": (100, "contact.country"),
}
REGISTRATION_FIELDS = (*_TEXT_FIELDS, "consent", "answers")
_CONSENT_YES = (True, "true", "on", "1", "yes")
_CONSENT_NO = (False, None, "", "false", "off", "0", "no")
MAX_ANSWERS = 30


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def required_fields(event: Event) -> tuple[str, ...]:
    """Names are always asked (badges, the check-in desk); email unless matching by name."""
    if event.registrant_matching == Event.Matching.NAME:
        return ("first_name", "last_name")
    return ("email", "first_name", "last_name")


def registration_values_clean(
    *, event: Event, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Check submitted values. Returns ``(clean values by field, errors by field)``; unknown
    fields, wrong types, missing required values and invalid emails are errors."""
    values: dict[str, Any] = {}
    errors: dict[str, dict[str, str]] = {}
    required = required_fields(event)
    for key in raw:
        if key not in REGISTRATION_FIELDS and key != HONEYPOT_FIELD:
            errors[key] = _error("unknown_field", "Unknown field.")
    for key, (limit, _) in _TEXT_FIELDS.items():
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = _error("invalid_type", "Expected text.")
            continue
        text = " ".join((value or "").split())
        if not text:
            if key in required:
                errors[key] = _error("required", "This field is required.")
            continue
        if len(text) > limit:
            errors[key] = _error("too_long", f"At most {limit} characters.")
            continue
        if key == "email":
            text = display_email(text)
            try:
                _EMAIL(text)
            except ValidationError:
                errors[key] = _error("invalid_email", "Enter a valid email address.")
                continue
        values[key] = text
    consent = raw.get("consent")
    if isinstance(consent, str):
        consent = consent.strip().lower()
    if consent in _CONSENT_YES:
        values["consent"] = True
    elif consent in _CONSENT_NO:
        values["consent"] = False
    else:
        errors["consent"] = _error("invalid_type", "Expected true or false.")
    answers = raw.get("answers")
    if answers is not None:
        if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
            errors["answers"] = _error(
                "invalid_type", f"Expected an object of at most {MAX_ANSWERS} answers."
            )
        elif any(
            not isinstance(v, str | int | float | bool | None) or len(str(v)) > 2000 or len(k) > 100
            for k, v in answers.items()
        ):
            errors["answers"] = _error(
                "invalid_type", "Each answer must be a single value of at most 2000 characters."
            )
        else:
            values["answers"] = {str(k): v for k, v in answers.items()}
    return values, errors


def registration_create(
    *,
    event: Event,
    raw: Mapping[str, Any],
    channel: str = "page",
    client_ip: str | None = None,
    user_agent: str = "",
    idempotency_key: str = "",
    by: Actor = None,
    registered_at: datetime.datetime | None = None,
) -> RegistrationResult:
    """Register the person ``raw`` describes for ``event``.

    Matches or creates the contact (the event's registrant matching), takes a seat, joins the
    waitlist, or raises ``DomainError("event_full")``; creates a new lead when the event says
    so and records ``event_registered``. A person already registered gets their registration
    back (``created=False``); so does a replayed ``idempotency_key``. Invalid values raise
    ``RegistrationRejected`` after storing the attempt; nothing else is written then.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    raw = {str(k): v for k, v in raw.items()}
    idempotency_key = idempotency_key[:100]
    if idempotency_key:
        earlier = Registration.objects.filter(event=event, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return RegistrationResult(earlier, created=False, replayed=True)
    meta = {"channel": channel, "client_ip": client_ip or None, "user_agent": user_agent[:300]}
    stored = {k: v for k, v in raw.items() if k != HONEYPOT_FIELD}
    if raw.get(HONEYPOT_FIELD):
        # Bots fill every field. Kept for the record; the visitor sees a plain thank-you.
        errors = {"_spam": _error("honeypot", "Hidden field filled in.")}
        _reject(event, stored, errors, meta)
        raise RegistrationRejected(errors, spam=True)
    values, errors = registration_values_clean(event=event, raw=raw)
    if errors:
        _reject(event, stored, errors, meta)
        raise RegistrationRejected(errors)
    if channel in PUBLIC_CHANNELS and not registration_open(event=event):
        raise DomainError("registration_closed", "Registration for this event has closed.")
    try:
        with transaction.atomic():
            return _register(event, values, channel, idempotency_key, by, registered_at)
    except IntegrityError:
        # A concurrent request for the same person (or the same key) won the race; the
        # constraint stopped the duplicate. Once more: now it finds that registration.
        if idempotency_key:
            earlier = Registration.objects.filter(
                event=event, idempotency_key=idempotency_key
            ).first()
            if earlier is not None:
                return RegistrationResult(earlier, created=False, replayed=True)
        with transaction.atomic():
            return _register(event, values, channel, idempotency_key, by, registered_at)


def _reject(
    event: Event, values: dict[str, Any], errors: dict[str, Any], meta: dict[str, Any]
) -> None:
    """Store a refused public attempt for review (staff mistakes are just shown to them)."""
    if meta["channel"] in PUBLIC_CHANNELS:
        RejectedRegistration.objects.create(event=event, values=values, errors=errors, **meta)


def _contact_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {path: values[key] for key, (_, path) in _TEXT_FIELDS.items() if key in values}


def _register(
    event: Event,
    values: dict[str, Any],
    channel: str,
    idempotency_key: str,
    by: Actor,
    registered_at: datetime.datetime | None,
) -> RegistrationResult:
    locked = Event.objects.select_for_update().get(pk=event.pk)
    record_values = _contact_values(values)
    consent = "granted" if values.get("consent") else None
    account = account_find_or_create(values=record_values) if "company" in values else None
    contact = _registrant(locked, record_values, account, consent)
    existing = (
        Registration.objects.filter(event=locked, contact=contact).exclude(status=_S.CANCELLED)
    ).first()
    if existing is not None:
        return RegistrationResult(existing, created=False)
    seats = event_seats(event=locked)
    if seats.waitlisted and not seats.full:
        _fill_seats(locked, by=by)  # waitlisted people go first
        seats = event_seats(event=locked)
    if not seats.full:
        status = _S.REGISTERED
    elif locked.waitlist_enabled:
        status = _S.WAITLISTED
    else:
        raise DomainError("event_full", "This event is full.")
    now = registered_at or timezone.now()
    lead: Lead | None = None
    if locked.create_leads:
        # Events create a new lead for every registration (SPEC §3): no lead matching.
        lead = _new_lead(locked, record_values, contact, account)
    answers = dict(values.get("answers") or {})
    for key in ("company", "job_title", "phone", "country"):
        if key in values:
            answers[key] = values[key]
    if "consent" in values:
        answers["consent"] = values["consent"]
    registration = Registration.objects.create(
        event=locked,
        contact=contact,
        lead=lead,
        status=status,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        email=values.get("email", ""),
        answers=answers,
        channel=channel,
        idempotency_key=idempotency_key,
        registered_at=now,
    )
    interaction_record(
        kind=Interaction.Kind.EVENT_REGISTERED,
        contact_id=contact.pk,
        lead_id=lead.pk if lead else None,
        campaign=locked.campaign,
        attributes={
            "event_id": locked.pk,
            "event": locked.name,
            "registration_id": registration.pk,
            "status": status,
            "channel": channel,
        },
        occurred_at=now,
    )
    audit_record(
        actor=by,
        action=AuditEntry.Action.CREATE,
        instance=registration,
        after=_registration_snapshot(registration),
    )
    return RegistrationResult(registration, created=True)


def _registrant(event: Event, values: dict[str, Any], account: Any, consent: str | None) -> Contact:
    strategy = event_matching_strategy(matching=event.registrant_matching)
    try:
        with transaction.atomic():
            matched: Matched = contact_match_or_create(
                strategy=strategy,
                values=values,
                channel=Channel.EVENT,
                account=account,
                consent=consent,
            )
    except ValidationError as exc:
        if "email" not in getattr(exc, "error_dict", {}) or not values.get("contact.email"):
            raise
        # Matched by name, but the submitted email is another contact's: emails are unique,
        # so the mailbox's owner is the person registering.
        matched = contact_match_or_create(
            strategy=event_matching_strategy(matching=Event.Matching.EMAIL),
            values=values,
            channel=Channel.EVENT,
            account=account,
            consent=consent,
        )
    return matched.record  # type: ignore[no-any-return]


def _new_lead(event: Event, values: dict[str, Any], contact: Contact, account: Any) -> Lead:
    return lead_match_or_create(  # type: ignore[no-any-return]
        strategy=None,
        values=values,
        contact=contact,
        account=account,
        channel=Channel.EVENT,
        defaults={"topic": event.topic, "campaign": event.campaign, "origin_ref": event.origin_ref},
    ).record


def _registration_snapshot(registration: Registration) -> dict[str, Any]:
    # The cancellation token is a secret: it stays out of the audit trail.
    snapshot = record_snapshot(registration)
    snapshot.pop("cancel_token", None)
    return snapshot


def _fill_seats(event: Event, *, by: Actor) -> list[int]:
    """Promote the oldest waitlisted registrants into the free seats, set-based. The caller
    holds the event's row lock. Returns the promoted registrations' ids."""
    seats = event_seats(event=event)
    if not seats.waitlisted or seats.full:
        return []
    waiting = (
        Registration.objects.filter(event=event, status=_S.WAITLISTED)
        .order_by("registered_at", "id")
        .values_list("id", flat=True)
    )
    ids = list(waiting if seats.left is None else waiting[: seats.left])
    now = timezone.now()
    Registration.objects.filter(pk__in=ids).update(
        status=_S.REGISTERED, promoted_at=now, updated_at=now
    )
    actor = by if isinstance(by, User) else None
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            record_type=Registration._meta.label_lower,
            record_id=pk,
            record_repr=f"Registration {pk} (event {event.pk})",
            changes={"status": [_S.WAITLISTED.value, _S.REGISTERED.value]},
        )
        for pk in ids
    )
    return ids


@transaction.atomic
def registration_cancel(*, registration: Registration, by: Actor = None) -> Registration:
    """Cancel a registration (the registrant's link, or staff). A freed seat goes to the
    oldest waitlisted registrant. Cancelling twice changes nothing; a checked-in registration
    cannot be cancelled (undo the check-in first)."""
    event = Event.objects.select_for_update().get(pk=registration.event_id)
    locked = Registration.objects.select_for_update().get(pk=registration.pk)
    if locked.status == _S.CANCELLED:
        return locked
    if locked.status == _S.CHECKED_IN:
        raise DomainError(
            "registration_checked_in",
            "This person has checked in; undo the check-in before cancelling.",
        )
    before = _registration_snapshot(locked)
    seated = locked.status == _S.REGISTERED
    now = timezone.now()
    locked.status = _S.CANCELLED
    locked.cancelled_at = now
    locked.save(update_fields=["status", "cancelled_at", "updated_at"])
    interaction_record(
        kind=Interaction.Kind.EVENT_CANCELLED,
        contact_id=locked.contact_id,
        lead_id=locked.lead_id,
        campaign=event.campaign,
        attributes={"event_id": event.pk, "event": event.name, "registration_id": locked.pk},
        occurred_at=now,
    )
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=locked,
        before=before,
        after=_registration_snapshot(locked),
    )
    if seated:
        _fill_seats(event, by=by)
    return locked


@transaction.atomic
def registration_check_in(
    *, registration: Registration, by: Actor, at: datetime.datetime | None = None
) -> Registration:
    """Check a registered person in and record ``event_checked_in``. Checking in twice
    records one check-in; waitlisted and cancelled registrations are refused."""
    locked = Registration.objects.select_for_update().get(pk=registration.pk)
    if locked.status == _S.CHECKED_IN:
        return locked
    if locked.status == _S.WAITLISTED:
        raise DomainError(
            "registration_waitlisted",
            "This person is on the waitlist; give the event more seats to let them in.",
        )
    if locked.status == _S.CANCELLED:
        raise DomainError("registration_cancelled", "This registration was cancelled.")
    event = Event.objects.get(pk=locked.event_id)
    before = _registration_snapshot(locked)
    now = at or timezone.now()
    locked.status = _S.CHECKED_IN
    locked.checked_in_at = now
    locked.checked_in_by = by if isinstance(by, User) else None
    locked.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
    interaction_record(
        kind=Interaction.Kind.EVENT_CHECKED_IN,
        contact_id=locked.contact_id,
        lead_id=locked.lead_id,
        campaign=event.campaign,
        attributes={"event_id": event.pk, "event": event.name, "registration_id": locked.pk},
        occurred_at=now,
    )
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=locked,
        before=before,
        after=_registration_snapshot(locked),
    )
    return locked


@transaction.atomic
def registration_check_in_undo(*, registration: Registration, by: Actor) -> Registration:
    """Take back a check-in made by mistake: the registration is registered again and its
    ``event_checked_in`` interaction is removed (the person did not attend, so scoring must
    not count it)."""
    locked = Registration.objects.select_for_update().get(pk=registration.pk)
    if locked.status != _S.CHECKED_IN:
        return locked
    before = _registration_snapshot(locked)
    locked.status = _S.REGISTERED
    locked.checked_in_at = None
    locked.checked_in_by = None
    locked.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
    Interaction.objects.filter(
        kind=Interaction.Kind.EVENT_CHECKED_IN,
        attributes__event_id=locked.event_id,
        attributes__registration_id=locked.pk,
    ).delete()
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=locked,
        before=before,
        after=_registration_snapshot(locked),
    )
    return locked


# Demo ------------------------------------------------------------------------------------------

DEMO_SLUGS = ("nordic-data-summit", "analytics-breakfast-warsaw")
_DEMO_PEOPLE = [
    ("Anna", "Berg", "anna.berg@demo-events.example"),
    ("Piotr", "Nowak", "piotr.nowak@demo-events.example"),
    ("Freja", "Olsen", "freja.olsen@demo-events.example"),
    ("Hugo", "Larsson", "hugo.larsson@demo-events.example"),
    ("Zofia", "Kowalski", "zofia.kowalski@demo-events.example"),
    ("Liam", "Smith", "liam.smith@demo-events.example"),
    ("Marta", "Dąbrowski", "marta.dabrowski@demo-events.example"),
    ("Nils", "Lindqvist", "nils.lindqvist@demo-events.example"),
    ("Clara", "Müller", "clara.muller@demo-events.example"),
    ("Oskar", "Johansson", "oskar.johansson@demo-events.example"),
]


def _valid_email(email: str) -> bool:
    try:
        _EMAIL(email)
    except ValidationError:
        return False
    return True


@transaction.atomic
def demo_events_create(*, now: datetime.datetime | None = None) -> list[Event]:
    """Two demo events: an upcoming summit (6 seats, 8 registrants: 6 registered, 2 on the
    waitlist) and a past breakfast where most registrants checked in. Registrants are existing
    demo contacts (made up when there are none). Does nothing when they exist already."""
    existing = list(Event.objects.filter(slug__in=DEMO_SLUGS).order_by("starts_at"))
    if existing:
        return existing
    now = now or timezone.now()
    day = datetime.timedelta(days=1)
    start = (now + 21 * day).replace(hour=9, minute=0, second=0, microsecond=0)
    summit = event_create(
        by=None,
        data={
            "name": "Nordic Data Summit 2026",
            "slug": DEMO_SLUGS[0],
            "description": "A day of talks on data platforms, analytics and AI in the Nordics.",
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=8),
            "location": "Stockholm Waterfront Congress Centre",
            "capacity": 6,
            "campaign": "Nordic Data Summit",
        },
    )
    past_start = (now - 30 * day).replace(hour=8, minute=0, second=0, microsecond=0)
    breakfast = event_create(
        by=None,
        data={
            "name": "Analytics Breakfast Warsaw",
            "slug": DEMO_SLUGS[1],
            "description": "Breakfast briefing on self-service analytics.",
            "starts_at": past_start,
            "ends_at": past_start + datetime.timedelta(hours=2),
            "location": "Warsaw, Złota 44",
            "capacity": 40,
            "campaign": "Analytics Breakfast Series",
        },
    )
    candidates = (
        Contact.objects.exclude(email_normalized=None).select_related("account").order_by("id")
    )
    # Registrants type their email into a form, so only addresses the form accepts qualify.
    contacts = [c for c in candidates[:60] if _valid_email(c.email)][:14]
    people = [
        (
            c.first_name or "Guest",
            c.last_name or str(c.pk),
            c.email,
            c.account.name if c.account else "",
        )
        for c in contacts
    ] or [(first, last, email, "") for first, last, email in _DEMO_PEOPLE]
    for i, (first, last, email, company) in enumerate(people[:8]):
        registration_create(
            event=summit,
            raw={"first_name": first, "last_name": last, "email": email, "company": company},
            channel="demo",
            registered_at=now - (10 - i) * day,
        )
    desk = User.objects.filter(username="telemarketer").first()
    for i, (first, last, email, company) in enumerate(people[-6:]):
        result = registration_create(
            event=breakfast,
            raw={"first_name": first, "last_name": last, "email": email, "company": company},
            channel="demo",
            registered_at=past_start - (20 - i) * day,
        )
        if i < 4 and result.created:
            registration_check_in(
                registration=result.registration,
                by=desk,
                at=past_start + datetime.timedelta(minutes=5 + 3 * i),
            )
    return [summit, breakfast]
