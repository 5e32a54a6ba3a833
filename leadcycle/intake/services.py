"""Writes for intake: matching (find or create, race-safe), form submissions, rate limits.

Matching rule (SPEC §3): a record matches when **all** the strategy's fields are equal after
normalisation; the match is updated with the submitted values; only when nothing matches is a
record created. Several matches: the oldest record (lowest id) is used and the others are kept
on the submission as ``possible_duplicates`` for review. Two more rules keep the database
consistent: a contact is never created with an email another contact already has (that contact
is used instead, whatever the strategy), and a lead is matched only while it is open.

Race safety: creating a record first claims its match key (``MatchKey``, unique per strategy)
with ``INSERT … ON CONFLICT DO NOTHING`` inside the transaction. Of two concurrent submissions
of the same new person, the second waits on the first's key until it commits, then finds and
updates the first's record.
"""

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leadcycle.bulk import insert_rows
from leadcycle.crm.models import Account, Channel, Contact, Interaction, Lead
from leadcycle.crm.normalize import display_email, normalize_domain, normalize_email
from leadcycle.crm.services import (
    account_create,
    contact_create,
    contact_update,
    interaction_record,
    lead_create,
    lead_update,
)
from leadcycle.errors import DomainError
from leadcycle.intake.fields import FIELDS, normalized
from leadcycle.intake.models import (
    FormField,
    FormSubmission,
    IntakeSettings,
    MarketingForm,
    MatchingStrategy,
    MatchKey,
    RateBucket,
)
from leadcycle.intake.selectors import records_matching, strategy_values_complete

HONEYPOT_FIELD = "website_url_hp"
_EMAIL = EmailValidator()


def match_key(strategy: MatchingStrategy, values: Mapping[str, object]) -> str:
    """SHA-256 of the strategy's normalised values, in the strategy's field order."""
    joined = "\x1f".join(normalized(path, values.get(path)) for path in strategy.fields)
    return hashlib.sha256(joined.encode()).hexdigest()


def _claim_key(strategy: MatchingStrategy, key: str) -> MatchKey:
    """The key row, created by us (``contact``/``lead`` still empty) or, when someone else
    holds it, theirs — after waiting for their transaction to finish. Locked until commit."""
    insert_rows(
        MatchKey,
        [{"strategy_id": strategy.pk, "key": key, "created_at": timezone.now()}],
        columns=("strategy_id", "key", "created_at"),
        skip_conflicts_on=("strategy_id", "key"),
    )
    return MatchKey.objects.select_for_update().get(strategy=strategy, key=key)


@dataclass
class Matched:
    record: Any
    action: str  # created, updated, matched
    possible_duplicates: list[int] = field(default_factory=list)


def _split(data: Mapping[str, object], entity: str) -> dict[str, object]:
    """Record field values of one entity from ``{"contact.email": …}``, empty ones left out."""
    prefix = entity + "."
    return {
        k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix) and v not in (None, "")
    }


def contact_match_or_create(
    *,
    strategy: MatchingStrategy,
    values: Mapping[str, object],
    channel: str,
    account: Account | None = None,
    consent: str | None = None,
) -> Matched:
    """Find the contact ``values`` describe (by ``strategy``) and update it, or create it."""
    data = _split(values, "contact")
    if consent:
        data["consent"] = consent
    matches = records_matching(strategy=strategy, values=values)
    if not matches and strategy_values_complete(strategy, values):
        key = _claim_key(strategy, match_key(strategy, values))
        if key.contact_id is not None:
            # Someone holds the key: their transaction has committed by now, so look again.
            # (A stale key, whose contact no longer matches, finds nothing and is re-pointed.)
            matches = records_matching(strategy=strategy, values=values)
        if not matches:
            contact = _contact_create_or_email_match(data, channel, account)
            MatchKey.objects.filter(pk=key.pk).update(contact=contact.record)
            return contact
    elif not matches:
        return _contact_create_or_email_match(data, channel, account)
    found: Contact = matches[0]  # type: ignore[assignment]
    changes = _contact_changes(found, data)
    if account is not None and found.account_id is None:
        changes["account_id"] = account.pk
    if changes:
        contact_update(contact=found, by=None, data=changes)
    return Matched(found, "updated" if changes else "matched", [c.pk for c in matches[1:]])


def _contact_changes(contact: Contact, data: Mapping[str, object]) -> dict[str, object]:
    """The submitted values that differ from the contact's; an email that differs only in
    case or width is the same address and is left as the contact has it."""
    return {
        k: v for k, v in data.items()
        if getattr(contact, k) != v
        and not (k == "email" and normalize_email(str(v)) == contact.email_normalized)
    }


def _contact_create_or_email_match(
    data: dict[str, object], channel: str, account: Account | None
) -> Matched:
    email = normalize_email(str(data.get("email") or ""))
    if email:
        existing = Contact.objects.filter(email_normalized=email).first()
        if existing is not None:
            # The strategy did not match, but emails are unique: this is the same person.
            changes = _contact_changes(existing, data)
            if changes:
                contact_update(contact=existing, by=None, data=changes)
            return Matched(existing, "updated" if changes else "matched")
    create = {**data, "origin_channel": channel, "account_id": account.pk if account else None}
    return Matched(contact_create(by=None, data=create), "created")


def lead_match_or_create(
    *,
    strategy: MatchingStrategy | None,
    values: Mapping[str, object],
    contact: Contact | None,
    account: Account | None,
    channel: str,
    defaults: Mapping[str, object],
) -> Matched:
    """Find the open lead ``values`` describe and update it, or create one. With no strategy
    (*generate leads without matching*, events, journeys) a new lead is always created."""
    data = {**defaults, **_split(values, "lead")}
    link = {
        "parent_contact_id": contact.pk if contact else None,
        "parent_account_id": (
            contact.account_id
            if contact and contact.account_id
            else (account.pk if account else None)
        ),
    }
    if strategy is None:
        return Matched(_lead_new(data, link, channel), "created")
    matches = records_matching(strategy=strategy, values=values)
    if not matches and strategy_values_complete(strategy, values):
        key = _claim_key(strategy, match_key(strategy, values))
        if key.lead_id is not None:
            matches = records_matching(strategy=strategy, values=values)
        if not matches:
            created = _lead_new(data, link, channel)
            MatchKey.objects.filter(pk=key.pk).update(lead=created)
            return Matched(created, "created")
    elif not matches:
        return Matched(_lead_new(data, link, channel), "created")
    lead: Lead = matches[0]  # type: ignore[assignment]
    changes: dict[str, object] = {k: v for k, v in data.items() if v and getattr(lead, k) != v}
    if lead.parent_contact_id is None and link["parent_contact_id"]:
        changes.update(link)
    if changes:
        lead_update(lead=lead, by=None, data=changes)
    return Matched(lead, "updated" if changes else "matched", [m.pk for m in matches[1:]])


def _lead_new(data: Mapping[str, object], link: Mapping[str, object], channel: str) -> Lead:
    return lead_create(by=None, data={**data, **link, "source_channel": channel}).lead


def account_find_or_create(*, values: Mapping[str, object]) -> Account | None:
    """The account named by submitted company fields: by web domain, else by name."""
    data = _split(values, "account")
    domain = normalize_domain(str(data.get("web_domain") or ""))
    name = " ".join(str(data.get("name") or "").split())
    if not domain and not name:
        return None
    existing = None
    if domain:
        existing = Account.objects.filter(web_domain=domain).order_by("id").first()
    if existing is None and name:
        existing = Account.objects.filter(name__iexact=name).order_by("id").first()
    if existing is not None:
        return existing
    return account_create(by=None, data={**data, "name": name or domain})


# Form submissions ----------------------------------------------------------------------------


@dataclass
class SubmissionRejected(Exception):
    """The submission was refused; ``submission`` is the stored rejected entry."""

    submission: FormSubmission
    errors: dict[str, dict[str, str]]


def form_values_clean(
    form: MarketingForm, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Check raw submitted values against the form's fields.

    Returns ``(values by record path, errors by form field key)``; record paths look like
    ``contact.email``; unmapped answers are kept under ``answers.<key>``.
    """
    values: dict[str, Any] = {}
    errors: dict[str, dict[str, str]] = {}
    for question in form.fields.all():
        value = raw.get(question.key)
        if isinstance(value, list | dict):
            errors[question.key] = {"code": "invalid_type", "message": "Expected a single value."}
            continue
        if question.kind == FormField.Kind.CONSENT:
            checked = value in (True, "true", "on", "1", "yes", 1)
            if question.required and not checked:
                errors[question.key] = {"code": "required", "message": "Please tick this box."}
            values["contact.consent"] = "granted" if checked else None
            continue
        text = "" if value is None else str(value).strip()
        if not text:
            if question.required:
                errors[question.key] = {"code": "required", "message": "This field is required."}
            continue
        limit = FIELDS[question.maps_to].max_length if question.maps_to in FIELDS else 2000
        if len(text) > limit:
            errors[question.key] = {"code": "too_long", "message": f"At most {limit} characters."}
            continue
        if question.kind == FormField.Kind.EMAIL or question.maps_to == "contact.email":
            text = display_email(text)
            try:
                _EMAIL(text)
            except ValidationError:
                errors[question.key] = {
                    "code": "invalid_email",
                    "message": "Enter a valid email address.",
                }
                continue
        elif question.kind == FormField.Kind.NUMBER:
            try:
                float(text)
            except ValueError:
                errors[question.key] = {"code": "invalid_type", "message": "Enter a number."}
                continue
        elif question.kind == FormField.Kind.CHOICE and text not in question.choice_list():
            errors[question.key] = {
                "code": "invalid_choice",
                "message": "Choose one of the options.",
            }
            continue
        values[question.maps_to or f"answers.{question.key}"] = text
    return values, errors


def form_submit(
    *,
    form: MarketingForm,
    raw: Mapping[str, Any],
    channel: str = "page",
    visitor_contact_id: int | None = None,
    client_ip: str | None = None,
    user_agent: str = "",
    idempotency_key: str = "",
) -> FormSubmission:
    """Store a submission and apply it: match or create the contact, the account and the lead
    as the form's update mode says, and record a ``form_submitted`` interaction.

    Raises ``SubmissionRejected`` (after storing the rejected submission) for invalid values;
    nothing else is written then. A replayed ``idempotency_key`` returns the first submission.
    """
    raw = {str(k): v for k, v in raw.items()}
    if idempotency_key:
        earlier = FormSubmission.objects.filter(form=form, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    stored_raw = {k: v for k, v in raw.items() if k != HONEYPOT_FIELD}
    meta = {
        "channel": channel,
        "client_ip": client_ip,
        "user_agent": user_agent[:300],
        "idempotency_key": idempotency_key[:100],
    }
    if raw.get(HONEYPOT_FIELD):
        # Bots fill every field. Stored for the record, answered like a success.
        return FormSubmission.objects.create(
            form=form,
            status=FormSubmission.Status.REJECTED,
            values=stored_raw,
            errors={"_spam": {"code": "honeypot", "message": "Hidden field filled in."}},
            **meta,
        )
    values, errors = form_values_clean(form, raw)
    if errors:
        rejected = FormSubmission.objects.create(
            form=form,
            status=FormSubmission.Status.REJECTED,
            values=stored_raw,
            errors=errors,
            **meta,
        )
        raise SubmissionRejected(rejected, errors)
    try:
        with transaction.atomic():
            return _form_apply(form, values, stored_raw, visitor_contact_id, meta)
    except IntegrityError:
        if idempotency_key:  # the same submission, replayed concurrently: answer with the first
            earlier = FormSubmission.objects.filter(
                form=form, idempotency_key=idempotency_key
            ).first()
            if earlier is not None:
                return earlier
        raise


def _form_apply(
    form: MarketingForm,
    values: dict[str, Any],
    raw: dict[str, Any],
    visitor_contact_id: int | None,
    meta: dict[str, Any],
) -> FormSubmission:
    mode = form.update_mode
    consent = values.pop("contact.consent", None)
    contact: Contact | None = None
    lead: Lead | None = None
    contact_action = lead_action = "none"
    duplicates: list[dict[str, object]] = []
    account = None
    if mode in (
        MarketingForm.UpdateMode.CONTACTS_AND_LEADS,
        MarketingForm.UpdateMode.ONLY_CONTACTS,
    ):
        account = account_find_or_create(values=values)
        matched = contact_match_or_create(
            strategy=form.contact_strategy,
            values=values,
            channel=Channel.FORM,
            account=account,
            consent=consent,
        )
        contact, contact_action = matched.record, matched.action
        duplicates += [{"type": "contact", "id": pk} for pk in matched.possible_duplicates]
    elif mode == MarketingForm.UpdateMode.ONLY_LEADS and visitor_contact_id:
        # Only leads: the lead gets a parent only when the visitor is already known.
        contact = Contact.objects.filter(pk=visitor_contact_id).first()
    if mode in (MarketingForm.UpdateMode.CONTACTS_AND_LEADS, MarketingForm.UpdateMode.ONLY_LEADS):
        lead_values = {**values, "lead.origin_ref": form.origin_ref}
        if contact is not None and not lead_values.get("contact.email"):
            lead_values["contact.email"] = contact.email
        matched = lead_match_or_create(
            strategy=None if form.generate_leads_without_matching else form.lead_strategy,
            values=lead_values,
            contact=contact,
            account=account,
            channel=Channel.FORM,
            defaults={
                "topic": form.lead_topic,
                "campaign": form.campaign,
                "origin_ref": form.origin_ref,
            },
        )
        lead, lead_action = matched.record, matched.action
        duplicates += [{"type": "lead", "id": pk} for pk in matched.possible_duplicates]
    submission = FormSubmission.objects.create(
        form=form,
        status=FormSubmission.Status.ACCEPTED,
        values=raw,
        contact=contact,
        lead=lead,
        contact_action=contact_action,
        lead_action=lead_action,
        possible_duplicates=duplicates,
        **meta,
    )
    if contact is not None or lead is not None:
        interaction_record(
            kind=Interaction.Kind.FORM_SUBMITTED,
            contact_id=contact.pk if contact else None,
            lead_id=lead.pk if lead else None,
            campaign=form.campaign,
            attributes={"form_id": form.pk, "form": form.name, "submission_id": submission.pk},
        )
    return submission


# Rate limits ---------------------------------------------------------------------------------


def rate_limit_hit(*, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one request of ``key`` in the current window; ``True`` when over ``limit``.

    One atomic upsert; works the same on SQLite and PostgreSQL and across server processes.
    """
    window = int(time.time()) // window_seconds * window_seconds
    quote = connection.ops.quote_name  # "window" is a reserved word in PostgreSQL
    table, key_col, window_col, hits_col = (
        quote(RateBucket._meta.db_table),
        quote("key"),
        quote("window"),
        quote("hits"),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_col}, {window_col}, {hits_col}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key_col}, {window_col}) "
            f"DO UPDATE SET {hits_col} = {table}.{hits_col} + 1 RETURNING {hits_col}",
            [key[:100], window],
        )
        (hits,) = cursor.fetchone()
        if hits == 1 and window % (window_seconds * 10) == 0:
            # Once in a while, forget old windows.
            RateBucket.objects.filter(window__lt=window - 3600).delete()
    return bool(hits > limit)


def strategy_save(*, strategy: MatchingStrategy, data: Mapping[str, Any]) -> MatchingStrategy:
    """Create or change a matching strategy; its fields are checked against the whitelist."""
    for name, value in data.items():
        setattr(strategy, name, value)
    strategy.full_clean()
    with transaction.atomic():
        if strategy.pk:
            # Keys of the old fields mean nothing now; new ones are claimed as records are made.
            MatchKey.objects.filter(strategy=strategy).delete()
        strategy.save()
    return strategy


def form_check_origin(form: MarketingForm, origin: str) -> bool:
    return origin.rstrip("/") in form.origins()


def ensure_form_live(form: MarketingForm | None) -> MarketingForm:
    if form is None:
        raise DomainError("form_not_found", "No live form at this address.", status=404)
    return form


DEFAULT_CONTACT_STRATEGY = (
    "Contact by email",
    ["contact.email"],
    "One contact per email address (default).",
)
DEFAULT_LEAD_STRATEGY = (
    "Lead by email and form",
    ["contact.email", "lead.origin_ref"],
    "One lead per person and marketing form (default).",
)


def intake_defaults_ensure(**signal_kwargs: object) -> IntakeSettings:
    """The settings row and the default strategy pair exist (created by a migration; this
    restores them after a flush and runs after every ``migrate``)."""
    strategies = []
    for (name, fields, description), target in (
        (DEFAULT_CONTACT_STRATEGY, "contact"),
        (DEFAULT_LEAD_STRATEGY, "lead"),
    ):
        strategy, _ = MatchingStrategy.objects.get_or_create(
            name=name, defaults={"target": target, "fields": fields, "description": description}
        )
        strategies.append(strategy)
    settings = IntakeSettings.objects.order_by("id").first()
    if settings is None:
        settings = IntakeSettings.objects.create(
            default_contact_strategy=strategies[0], default_lead_strategy=strategies[1]
        )
    return settings
