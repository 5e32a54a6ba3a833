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
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import (
    Actor,
    audit_create,
    audit_record,
    audit_update,
    record_snapshot,
)
from leadcycle.crm.models import Account, Channel, Contact, Interaction, Lead
from leadcycle.crm.normalize import display_email, normalize_domain, normalize_email
from leadcycle.crm.services import (
    account_create,
    contact_create,
    contact_update,
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
from leadcycle.interactions.services import interaction_record, visitor_identify
from leadcycle.locks import lock_for_create

HONEYPOT_FIELD = "website_url_hp"
_EMAIL = EmailValidator()


def match_key(strategy: MatchingStrategy, values: Mapping[str, object]) -> str:
    """SHA-256 of the strategy's normalised values, in the strategy's field order."""
    joined = "\x1f".join(normalized(path, values.get(path)) for path in strategy.fields)
    return hashlib.sha256(joined.encode()).hexdigest()


@dataclass(frozen=True)
class _ClaimedKey:
    pk: int
    contact_id: int | None
    lead_id: int | None


def _claim_key(strategy: MatchingStrategy, key: str) -> _ClaimedKey:
    """The key row, created by us (``contact``/``lead`` still empty) or, when someone else
    holds it, theirs — after waiting for their transaction to finish. Locked until commit.

    One statement: the upsert's ``DO UPDATE`` (a no-op write) is what takes the row lock, and
    waits for a concurrent inserter of the same key to commit or roll back; ``RETURNING`` then
    gives the row as that transaction left it.
    """
    quote = connection.ops.quote_name
    table = quote(MatchKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('strategy_id')}, {quote('key')}, {quote('created_at')})"  # noqa: S608 - names from model metadata
            f" VALUES (%s, %s, %s) ON CONFLICT ({quote('strategy_id')}, {quote('key')})"
            f" DO UPDATE SET {quote('key')} = EXCLUDED.{quote('key')}"
            f" RETURNING {quote('id')}, {quote('contact_id')}, {quote('lead_id')}",
            [strategy.pk, key, timezone.now()],
        )
        pk, contact_id, lead_id = cursor.fetchone()
    return _ClaimedKey(pk, contact_id, lead_id)


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
            contact = _contact_create_or_email_match(
                data, channel, account, email_checked=_by_email_alone(strategy)
            )
            MatchKey.objects.filter(pk=key.pk).update(contact=contact.record)
            return contact
    elif not matches:
        return _contact_create_or_email_match(
            data, channel, account, email_checked=_by_email_alone(strategy)
        )
    found: Contact = matches[0]  # type: ignore[assignment]
    email = normalize_email(str(data.get("email") or ""))
    if email and email != found.email_normalized:
        owner = Contact.objects.filter(email_normalized=email).first()
        if owner is not None:
            # The strategy (say, by name) found one contact but the email is another's:
            # emails are unique, so the email's owner is the person.
            return _contact_create_or_email_match(data, Channel.FORM, account)
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
        k: v
        for k, v in data.items()
        if getattr(contact, k) != v
        and not (k == "email" and normalize_email(str(v)) == contact.email_normalized)
    }


def _by_email_alone(strategy: MatchingStrategy) -> bool:
    """Whether finding no match means that no contact has the email (the default strategy)."""
    return list(strategy.fields) == ["contact.email"]


def _contact_create_or_email_match(
    data: dict[str, object], channel: str, account: Account | None, *, email_checked: bool = False
) -> Matched:
    """Create the contact, unless another contact has its email (then that one is updated).
    ``email_checked``: the caller has just looked for the email in this transaction."""
    email = normalize_email(str(data.get("email") or ""))
    if email and not email_checked:
        existing = Contact.objects.filter(email_normalized=email).first()
        if existing is not None:
            # The strategy did not match, but emails are unique: this is the same person.
            changes = _contact_changes(existing, data)
            if changes:
                contact_update(contact=existing, by=None, data=changes)
            return Matched(existing, "updated" if changes else "matched")
    create = {**data, "origin_channel": channel, "account": account}
    return Matched(contact_create(by=None, data=create, savepoint=False), "created")


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
    # Instances, not ids: records loaded or made in this transaction need no existence check.
    link: dict[str, object] = {
        "parent_contact": contact,
        "parent_account": contact.account if contact and contact.account_id else account,
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
    if lead.parent_contact_id is None and contact is not None:
        changes.update(link)
    if changes:
        lead_update(lead=lead, by=None, data=changes)
    return Matched(lead, "updated" if changes else "matched", [m.pk for m in matches[1:]])


def _lead_new(data: Mapping[str, object], link: Mapping[str, object], channel: str) -> Lead:
    # The intake transaction is all or nothing: no savepoints inside it (nor for contacts).
    return lead_create(
        by=None, data={**data, **link, "source_channel": channel}, savepoint=False
    ).lead


def account_find_or_create(*, values: Mapping[str, object]) -> Account | None:
    """The account named by submitted company fields: by web domain, else by name."""
    data = _split(values, "account")
    domain = normalize_domain(str(data.get("web_domain") or ""))
    name = " ".join(str(data.get("name") or "").split())
    if not domain and not name:
        return None

    def find() -> Account | None:
        found = None
        if domain:
            found = Account.objects.filter(web_domain=domain).order_by("id").first()
        if found is None and name:
            found = Account.objects.filter(name__iexact=name).order_by("id").first()
        return found

    existing = find()
    if existing is not None:
        return existing
    # Two submissions naming the same new company must not both create it: serialise the
    # creation per company (a transaction-scoped lock), then look again.
    if lock_for_create("account", domain or normalized("account.name", name)):
        existing = find()  # someone may have created it while we waited
    return existing or account_create(
        by=None, data={**data, "name": name or domain}, savepoint=False
    )


# Form submissions ----------------------------------------------------------------------------


@dataclass
class SubmissionRejected(Exception):
    """The submission was refused; ``submission`` is the stored rejected entry."""

    submission: FormSubmission
    errors: dict[str, dict[str, str]]


def _record_choices(path: str) -> list[str]:
    """The values a record field with fixed choices accepts (``contact.role``), else ``[]``."""
    models_by_entity = {"contact": Contact, "lead": Lead, "account": Account}
    entity, _, name = path.partition(".")
    model = models_by_entity.get(entity)
    if model is None or not name:
        return []
    field = model._meta.get_field(name)
    return [str(value) for value, _ in field.flatchoices] if field.choices else []  # type: ignore[union-attr]


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
        allowed = _record_choices(question.maps_to)
        if allowed and text not in allowed:
            errors[question.key] = {
                "code": "invalid_choice",
                "message": f"Choose one of: {', '.join(allowed)}.",
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
    anonymous_visitor_id: str = "",
) -> FormSubmission:
    """Store a submission and apply it: match or create the contact, the account and the lead
    as the form's update mode says, and record a ``form_submitted`` interaction.

    Raises ``SubmissionRejected`` (after storing the rejected submission) for invalid values;
    nothing else is written then. A replayed ``idempotency_key`` returns the first submission.
    ``anonymous_visitor_id`` (the tracking script's id of this browser): the visitor's earlier
    anonymous website visits are credited to the submission's contact.
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
            submission = _form_apply(form, values, stored_raw, visitor_contact_id, meta)
            if submission.contact_id is not None and anonymous_visitor_id:
                visitor_identify(visitor_id=anonymous_visitor_id, contact_id=submission.contact_id)
            return submission
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
        if contact is None:
            from leadcycle.duplicates.selectors import contact_survivor_id

            # The visitor's contact was merged since: the survivor is who they are now.
            survivor = contact_survivor_id(visitor_contact_id)
            contact = Contact.objects.filter(pk=survivor).first() if survivor else None
    if mode in (MarketingForm.UpdateMode.CONTACTS_AND_LEADS, MarketingForm.UpdateMode.ONLY_LEADS):
        # The form's own topic and campaign take part in lead matching when no answer gives them.
        lead_values = {
            "lead.topic": form.lead_topic,
            "lead.campaign": form.campaign,
            **values,
            "lead.origin_ref": form.origin_ref,
        }
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
    # Outside a transaction the upsert commits by itself: no BEGIN and COMMIT round trips.
    with connection.cursor() as cursor:
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
    before = (
        MatchingStrategy.objects.filter(pk=strategy.pk).values("target", "fields").first()
        if strategy.pk
        else None
    )
    for name, value in data.items():
        setattr(strategy, name, value)
    strategy.full_clean()
    with transaction.atomic():
        if (
            before is not None
            and before["target"] != strategy.target
            and (
                MarketingForm.objects.filter(contact_strategy=strategy).exists()
                or MarketingForm.objects.filter(lead_strategy=strategy).exists()
            )
        ):
            raise DomainError(
                "strategy_in_use",
                "Forms use this strategy; its target cannot change.",
                fields={"target": "Used by forms."},
            )
        if before is not None and (before["target"], before["fields"]) != (
            strategy.target,
            strategy.fields,
        ):
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


# Staff side: forms, their questions, strategies and settings ----------------------------------
#
# Every service below is atomic, validates through the model (``full_clean``) plus the builder
# rules a model cannot see (a question's key and record field are unique within its form), and
# writes its audit entry in the same transaction. Foreign keys are given as ``<name>_id``;
# field errors name the input field (``contact_strategy_id``, ``fields.0.maps_to``).

FORM_EDITABLE = (
    "name",
    "slug",
    "title",
    "intro",
    "update_mode",
    "generate_leads_without_matching",
    "contact_strategy_id",
    "lead_strategy_id",
    "lead_topic",
    "campaign",
    "submit_label",
    "thank_you_message",
    "redirect_url",
    "allowed_origins",
    "is_live",
)
FORM_FIELD_EDITABLE = ("key", "label", "kind", "required", "maps_to", "choices", "help_text")
# Set by the form itself on every lead it makes; a question may not overwrite them.
FORM_OWN_LEAD_FIELDS = ("lead.origin_ref", "lead.source_channel")
RESERVED_KEYS = (HONEYPOT_FIELD, "csrfmiddlewaretoken")
_ORIGIN_RE = re.compile(r"^https?://[^/\s?#]+$")


def _field_error(name: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


def _merge_errors(errors: dict[str, list[ValidationError]], exc: ValidationError) -> None:
    for name, items in exc.error_dict.items() if hasattr(exc, "error_dict") else []:
        errors.setdefault(name, []).extend(items)
    if not hasattr(exc, "error_dict"):
        errors.setdefault(NON_FIELD_ERRORS, []).extend(exc.error_list)


def _raise_if(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def _assign(instance: models.Model, data: Mapping[str, Any], editable: Sequence[str]) -> None:
    for name, value in data.items():
        if name not in editable:
            raise _field_error(name, "Unknown field.", "unknown_field")
        setattr(instance, name, value)


def _strategy_check(name: str, strategy_id: object, target: str) -> None:
    """A form's (or the settings') strategy exists and matches the record type of its slot."""
    if strategy_id in (None, ""):
        raise _field_error(name, f"Choose a {target} matching strategy.", "required")
    strategy = MatchingStrategy.objects.filter(pk=strategy_id).first()  # type: ignore[misc]
    if strategy is None:
        raise _field_error(name, f"No matching strategy with id {strategy_id}.", "does_not_exist")
    if strategy.target != target:
        raise _field_error(
            name, f"“{strategy}” matches {strategy.target}s; choose a {target} strategy.", "invalid"
        )


def _form_check(form: MarketingForm) -> None:
    errors: dict[str, list[ValidationError]] = {}
    for name, target in (("contact_strategy_id", "contact"), ("lead_strategy_id", "lead")):
        try:
            _strategy_check(name, getattr(form, name), target)
        except ValidationError as exc:
            _merge_errors(errors, exc)
    for line in form.allowed_origins.splitlines():
        if line.strip() and not _ORIGIN_RE.match(line.strip().rstrip("/")):
            _merge_errors(
                errors,
                _field_error(
                    "allowed_origins",
                    f"“{line.strip()}” is not an origin; write scheme and host only, "
                    "e.g. https://www.example.com.",
                ),
            )
            break
    if form.slug and MarketingForm.objects.filter(slug=form.slug).exclude(pk=form.pk or 0).exists():
        _merge_errors(
            errors,
            _field_error("slug", "Another form already uses this address.", "duplicate"),
        )
    # The strategy slots were checked above, with messages naming the input fields.
    exclude = ["contact_strategy", "lead_strategy", *(["slug"] if "slug" in errors else [])]
    try:
        form.full_clean(exclude=exclude)
    except ValidationError as exc:
        _merge_errors(errors, exc)
    _raise_if(errors)


def _form_save(form: MarketingForm) -> None:
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError as exc:  # a concurrent request took the slug first
        if MarketingForm.objects.filter(slug=form.slug).exclude(pk=form.pk or 0).exists():
            raise _field_error(
                "slug", "Another form already uses this address.", "duplicate"
            ) from exc
        raise


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return ValidationError({prefix.rstrip("."): exc.error_list})
    return ValidationError({f"{prefix}{name}": items for name, items in exc.error_dict.items()})


@transaction.atomic
def form_create(
    *,
    by: Actor,
    data: Mapping[str, Any],
    fields: Sequence[Mapping[str, Any]] = (),
) -> MarketingForm:
    """Create a marketing form and, optionally, its questions (in the order given).

    Strategies not given default to the settings' pair, as SPEC §3 says for new forms.
    """
    form = MarketingForm()
    defaults = IntakeSettings.objects.order_by("id").first()
    values = dict(data)
    if defaults is not None:
        for name, default in (
            ("contact_strategy_id", defaults.default_contact_strategy_id),
            ("lead_strategy_id", defaults.default_lead_strategy_id),
        ):
            if values.get(name) is None:
                values[name] = default
    _assign(form, values, FORM_EDITABLE)
    _form_check(form)
    _form_save(form)
    audit_create(actor=by, instance=form)
    for index, question in enumerate(fields):
        try:
            form_field_create(form=form, by=by, data=question)
        except ValidationError as exc:
            raise _prefixed(exc, f"fields.{index}.") from None
    return form


@transaction.atomic
def form_update(*, form: MarketingForm, by: Actor, data: Mapping[str, Any]) -> MarketingForm:
    """Change a form's settings (not its questions)."""
    before = record_snapshot(form)
    _assign(form, data, FORM_EDITABLE)
    _form_check(form)
    _form_save(form)
    audit_update(actor=by, instance=form, before=before)
    return form


@transaction.atomic
def form_delete(*, form: MarketingForm, by: Actor) -> None:
    """Delete a form that has no submissions yet. A form with submissions is their record of
    what happened; it is taken offline (``is_live`` off) instead."""
    count = FormSubmission.objects.filter(form=form).count()
    if count:
        raise DomainError(
            "form_has_submissions",
            f"“{form}” has {count} submission{'s' if count != 1 else ''} and cannot be "
            "deleted; take it offline instead.",
        )
    audit_record(
        actor=by, action=AuditEntry.Action.DELETE, instance=form, before=record_snapshot(form)
    )
    form.delete()


def _form_field_check(question: FormField) -> None:
    """The model's rules plus the builder's: unique key and record field within the form, a
    record field the form does not set itself, options for choices, valid choice values."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        question.full_clean(exclude=["form", "position"])
    except ValidationError as exc:
        _merge_errors(errors, exc)
    others = FormField.objects.filter(form_id=question.form_id).exclude(pk=question.pk or 0)
    if question.key in RESERVED_KEYS:
        _merge_errors(errors, _field_error("key", f"“{question.key}” is reserved; choose another."))
    elif "key" not in errors and others.filter(key=question.key).exists():
        _merge_errors(
            errors,
            _field_error(
                "key", f"Another question of this form already uses the key “{question.key}”."
            ),
        )
    maps_to = question.maps_to
    if "maps_to" not in errors and maps_to:
        clash = others.filter(maps_to=maps_to).first()
        if maps_to == "contact.consent" and question.kind != FormField.Kind.CONSENT:
            message = "Only a consent checkbox can fill contact.consent."
        elif maps_to in FORM_OWN_LEAD_FIELDS:
            message = f"{maps_to} is set by the form itself; choose another record field."
        elif clash is not None:
            message = f"The question “{clash.label}” already fills {maps_to}."
        else:
            message = ""
        if message:
            _merge_errors(errors, _field_error("maps_to", message))
        elif maps_to in FIELDS and FIELDS[maps_to].kind == "choice":
            entity, name = maps_to.split(".")
            model = {"contact": Contact, "lead": Lead}[entity]
            valid = [str(v) for v, _ in model._meta.get_field(name).flatchoices]  # type: ignore[union-attr]
            wrong = [c for c in question.choice_list() if c not in valid]
            if question.kind != FormField.Kind.CHOICE or wrong or not question.choice_list():
                _merge_errors(
                    errors,
                    _field_error(
                        "maps_to",
                        f"{maps_to} takes a choice question whose options are among: "
                        f"{', '.join(valid)}.",
                    ),
                )
    if question.kind == FormField.Kind.CHOICE and not question.choice_list():
        _merge_errors(errors, _field_error("choices", "List the options, one per line."))
    _raise_if(errors)


def _positions_normalize(form: MarketingForm) -> list[FormField]:
    """The form's questions in order, numbered 0, 1, 2… (locks the form row while at it)."""
    MarketingForm.objects.select_for_update().filter(pk=form.pk).first()
    questions = list(FormField.objects.filter(form=form).order_by("position", "id"))
    changed = []
    for position, question in enumerate(questions):
        if question.position != position:
            question.position = position
            changed.append(question)
    if changed:
        FormField.objects.bulk_update(changed, ["position"])
    return questions


@transaction.atomic
def form_field_create(*, form: MarketingForm, by: Actor, data: Mapping[str, Any]) -> FormField:
    """Add a question at the end of the form."""
    question = FormField(form=form)
    _assign(question, data, FORM_FIELD_EDITABLE)
    _form_field_check(question)
    question.position = len(_positions_normalize(form))
    question.save()
    audit_create(actor=by, instance=question)
    return question


@transaction.atomic
def form_field_update(*, field: FormField, by: Actor, data: Mapping[str, Any]) -> FormField:
    """Change a question (its place in the form changes with ``form_field_move``)."""
    before = record_snapshot(field)
    _assign(field, data, FORM_FIELD_EDITABLE)
    _form_field_check(field)
    field.save()
    audit_update(actor=by, instance=field, before=before)
    return field


@transaction.atomic
def form_field_delete(*, field: FormField, by: Actor) -> None:
    """Remove a question; answers already submitted stay on their submissions."""
    audit_record(
        actor=by, action=AuditEntry.Action.DELETE, instance=field, before=record_snapshot(field)
    )
    form = field.form
    field.delete()
    _positions_normalize(form)


@transaction.atomic
def form_field_move(*, field: FormField, by: Actor, to: int) -> FormField:
    """Put a question at place ``to`` (0 is first; out-of-range places are clamped)."""
    questions = _positions_normalize(field.form)
    current = next(q for q in questions if q.pk == field.pk)
    old = questions.index(current)
    new = max(0, min(to, len(questions) - 1))
    if new == old:
        return current
    questions.insert(new, questions.pop(old))
    for position, question in enumerate(questions):
        question.position = position
    FormField.objects.bulk_update(questions, ["position"])
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=current,
        before={"position": old},
        after={"position": new},
    )
    field.position = new
    return field


def strategy_users(strategy: MatchingStrategy) -> list[str]:
    """What uses a strategy: every record of any app that points at it (forms, the settings'
    default pair, the LinkedIn connector, …), found through the model relations so that an
    app added later is counted without this function knowing it. Match keys do not count."""
    users: list[str] = []
    # include_hidden: the relations are declared with related_name="+".
    for relation in MatchingStrategy._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel):
            continue
        model = relation.related_model
        if model is MatchKey or not isinstance(relation.field, models.ForeignKey):
            continue
        label = str(model._meta.verbose_name)  # type: ignore[union-attr]
        for record in model._default_manager.filter(**{relation.field.name: strategy}):  # type: ignore[union-attr]
            describe = getattr(record, "strategy_usage", None)
            users.append(describe() if describe else f"{label} “{record}”")
    return sorted(set(users))


def _strategy_name_check(strategy: MatchingStrategy, name: object) -> None:
    if (
        isinstance(name, str)
        and MatchingStrategy.objects.filter(name__iexact=name.strip())
        .exclude(pk=strategy.pk or 0)
        .exists()
    ):
        raise _field_error("name", "Another strategy already has this name.", "duplicate")


@transaction.atomic
def strategy_create(*, by: Actor, data: Mapping[str, Any]) -> MatchingStrategy:
    """Create a matching strategy (``strategy_save`` checks the fields against the whitelist)."""
    strategy = MatchingStrategy()
    _strategy_name_check(strategy, data.get("name"))
    strategy = strategy_save(strategy=strategy, data=data)
    audit_create(actor=by, instance=strategy)
    return strategy


@transaction.atomic
def strategy_update(
    *, strategy: MatchingStrategy, by: Actor, data: Mapping[str, Any]
) -> MatchingStrategy:
    """Change a strategy. Its target stays while something uses it: a form's contact slot must
    keep holding a contact strategy."""
    before = record_snapshot(strategy)
    if "name" in data:
        _strategy_name_check(strategy, data["name"])
    if "target" in data and data["target"] != strategy.target:
        users = strategy_users(strategy)
        if users:
            raise _field_error(
                "target",
                f"The target cannot change while {', '.join(users)} use"
                f"{'s' if len(users) == 1 else ''} this strategy.",
                "strategy_in_use",
            )
    strategy = strategy_save(strategy=strategy, data=data)
    audit_update(actor=by, instance=strategy, before=before)
    return strategy


@transaction.atomic
def strategy_delete(*, strategy: MatchingStrategy, by: Actor) -> None:
    """Delete a strategy nothing uses; otherwise refuse with ``strategy_in_use``."""
    users = strategy_users(strategy)
    if users:
        raise DomainError(
            "strategy_in_use",
            f"“{strategy}” is used by {', '.join(users)}; choose another strategy there first.",
        )
    audit_record(
        actor=by,
        action=AuditEntry.Action.DELETE,
        instance=strategy,
        before=record_snapshot(strategy),
    )
    try:
        with transaction.atomic():
            strategy.delete()
    except models.ProtectedError as exc:  # a form picked it meanwhile
        raise DomainError("strategy_in_use", f"“{strategy}” is used by a form.") from exc


@transaction.atomic
def intake_settings_update(*, by: Actor, data: Mapping[str, Any]) -> IntakeSettings:
    """Choose the default strategy pair that new forms start with."""
    settings = intake_defaults_ensure()
    settings = IntakeSettings.objects.select_for_update().get(pk=settings.pk)
    before = record_snapshot(settings)
    _assign(settings, data, ("default_contact_strategy_id", "default_lead_strategy_id"))
    errors: dict[str, list[ValidationError]] = {}
    for name, target in (
        ("default_contact_strategy_id", "contact"),
        ("default_lead_strategy_id", "lead"),
    ):
        try:
            _strategy_check(name, getattr(settings, name), target)
        except ValidationError as exc:
            _merge_errors(errors, exc)
    _raise_if(errors)
    settings.save()
    audit_update(actor=by, instance=settings, before=before)
    return settings


DEMO_FORMS: tuple[tuple[dict[str, Any], list[dict[str, Any]]], ...] = (
    (
        {
            "name": "Spring Webinar Series — registration",
            "slug": "spring-webinar",
            "title": "Register for the Spring Webinar Series",
            "intro": "Four short sessions on running a lead lifecycle without duplicates. "
            "Register once for all of them; we send the links a day before each session.",
            "lead_topic": "Spring Webinar Series registration",
            "campaign": "Spring Webinar Series",
            "submit_label": "Register",
            "thank_you_message": "You are registered. The links arrive a day before each session.",
        },
        [
            {
                "key": "email",
                "label": "Work email",
                "kind": "email",
                "required": True,
                "maps_to": "contact.email",
            },
            {
                "key": "first_name",
                "label": "First name",
                "required": True,
                "maps_to": "contact.first_name",
            },
            {"key": "last_name", "label": "Last name", "maps_to": "contact.last_name"},
            {"key": "company", "label": "Company", "maps_to": "account.name"},
            {"key": "job_title", "label": "Job title", "maps_to": "contact.job_title"},
            {
                "key": "consent",
                "label": "Send me news about future webinars",
                "kind": "consent",
                "maps_to": "contact.consent",
            },
        ],
    ),
    (
        {
            "name": "Contact sales",
            "slug": "contact-sales",
            "title": "Talk to our sales team",
            "intro": "Tell us what you need; a seller answers within one working day.",
            "lead_topic": "Sales inquiry",
            "campaign": "",
            # Every inquiry is a new expression of interest, so it gets its own lead.
            "generate_leads_without_matching": True,
            "submit_label": "Send",
            "thank_you_message": "Thank you! A seller will contact you within one working day.",
        },
        [
            {
                "key": "email",
                "label": "Work email",
                "kind": "email",
                "required": True,
                "maps_to": "contact.email",
            },
            {"key": "first_name", "label": "First name", "maps_to": "contact.first_name"},
            {"key": "last_name", "label": "Last name", "maps_to": "contact.last_name"},
            {"key": "phone", "label": "Phone", "kind": "phone", "maps_to": "contact.phone"},
            {"key": "company", "label": "Company", "required": True, "maps_to": "account.name"},
            {"key": "website", "label": "Company website", "maps_to": "account.web_domain"},
            {
                "key": "interest",
                "label": "What are you interested in?",
                "kind": "choice",
                "choices": "Analytics Suite\nCloud Platform\nSupport Plan\nSomething else",
            },
            {
                "key": "message",
                "label": "Message",
                "kind": "textarea",
                "maps_to": "lead.description",
            },
            {
                "key": "consent",
                "label": "You may contact me about this inquiry",
                "kind": "consent",
                "required": True,
                "maps_to": "contact.consent",
            },
        ],
    ),
)


@transaction.atomic
def demo_forms_create() -> list[MarketingForm]:
    """The demo's two forms (a webinar registration and a contact-sales form), created only
    when no form exists yet. Returns the forms created."""
    if MarketingForm.objects.exists():
        return []
    intake_defaults_ensure()
    return [form_create(by=None, data=data, fields=fields) for data, fields in DEMO_FORMS]
