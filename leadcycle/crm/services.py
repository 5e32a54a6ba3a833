"""Writes for accounts, contacts, leads, opportunities and tasks.

Every service is atomic and writes its audit entry in the same transaction. Values are
validated by the model (``full_clean``) so the UI, the API and the CLI share one set of rules.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.dispatch import Signal
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import (
    Actor,
    audit_create,
    audit_delete_with_cascade,
    audit_record,
    audit_update,
    record_snapshot,
)
from leadcycle.bulk import insert_rows
from leadcycle.changes import records_changed
from leadcycle.crm.models import Account, Channel, Contact, Lead, Opportunity, Task
from leadcycle.crm.normalize import display_email, normalize_email
from leadcycle.errors import DomainError

# (sender, lead, old) inside the transaction that changed a lead's status (old None: created
# closed); the business process ends or reopens the lead's instance.
lead_status_changed = Signal()
# (sender, lead, data) before a lead's fields change; a listener refuses by raising
# DomainError (the business process: an accepted lead keeps its owner).
lead_changing = Signal()

M = TypeVar("M", bound=models.Model)

DUPLICATE_EMAIL = "A contact with this email already exists."


def _assign(instance: models.Model, data: Mapping[str, Any]) -> None:
    """Set fields from ``data``; foreign keys may be given as ``<name>_id``."""
    editable = {f.name for f in instance._meta.concrete_fields if f.editable}
    editable |= {f.attname for f in instance._meta.concrete_fields if f.editable}
    for key, value in data.items():
        if key not in editable:
            raise ValidationError({key: ValidationError("Unknown field.", code="unknown_field")})
        setattr(instance, key, "" if value is None and _is_text(instance, key) else value)


def _is_text(instance: models.Model, key: str) -> bool:
    field = instance._meta.get_field(key.removesuffix("_id"))
    return isinstance(field, models.CharField | models.TextField) and not field.null


def _check_references(instance: models.Model, data: Mapping[str, Any]) -> None:
    """Foreign keys given by id must point at existing rows: a clear error, not a 500."""
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.attname not in data:
            continue
        value = data[field.attname]
        if value is not None and not field.related_model._default_manager.filter(pk=value).exists():  # type: ignore[union-attr]
            raise ValidationError(
                {
                    field.attname: ValidationError(
                        f"No {field.related_model._meta.verbose_name} with id {value}.",  # type: ignore[union-attr]
                        code="does_not_exist",
                    )
                }
            )


def _validate(
    instance: models.Model, data: Mapping[str, Any], *, exclude: Iterable[str] = ()
) -> None:
    """The model's validation (values, choices, lengths, formats) in one place for every
    service, without the queries Django would add: foreign keys given in ``data`` are checked
    once by ``_check_references`` (with a clearer message), the choice and range constraints
    repeat the field validators, and the uniqueness rules are checked by the services that
    need them (and held by the database in any case)."""
    _check_references(instance, data)
    foreign_keys = {
        f.name for f in instance._meta.concrete_fields if isinstance(f, models.ForeignKey)
    }
    instance.full_clean(exclude={*foreign_keys, *exclude}, validate_constraints=False)


def _save_new(instance: M, *, by: Actor, data: Mapping[str, Any]) -> M:
    _assign(instance, data)
    _validate(instance, data)
    instance.save()
    audit_create(actor=by, instance=instance)
    return instance


def _save_changes(instance: M, *, by: Actor, data: Mapping[str, Any]) -> M:
    before = record_snapshot(instance)
    _assign(instance, data)
    _validate(instance, data)
    instance.save()
    audit_update(actor=by, instance=instance, before=before)
    return instance


AUDITED = frozenset({"crm.account", "crm.contact", "crm.lead", "crm.opportunity", "crm.task"})


def _delete(instance: models.Model, *, by: Actor) -> None:
    pk = instance.pk
    try:
        # Audits what the deletion does to other records too (orphaned leads, deleted tasks).
        audit_delete_with_cascade(actor=by, instance=instance, audited=AUDITED)
        with transaction.atomic():
            instance.delete()
    except (models.ProtectedError, models.RestrictedError) as exc:
        raise DomainError(
            "record_protected",
            f"This {instance._meta.verbose_name} is still referenced and cannot be deleted.",
        ) from exc
    instance.pk = pk


# Accounts ------------------------------------------------------------------------------------


def account_create(*, by: Actor, data: Mapping[str, Any], savepoint: bool = True) -> Account:
    """Create an account (workflows and other listeners hear of it after commit).
    ``savepoint=False``: the caller's transaction succeeds or fails as a whole (the intake
    channels), so no savepoint of its own is taken inside it, two statements fewer."""
    with transaction.atomic(savepoint=savepoint):
        account = _save_new(Account(), by=by, data=_with_owner(by, data))
        records_changed(account_ids=[account.pk])
        return account


@transaction.atomic
def account_update(*, account: Account, by: Actor, data: Mapping[str, Any]) -> Account:
    """Change an account's fields (its leads are rescored)."""
    account = _save_changes(account, by=by, data=data)
    records_changed(account_ids=[account.pk])
    return account


@transaction.atomic
def account_delete(*, account: Account, by: Actor) -> None:
    """Delete an account; its contacts and leads stay, unlinked."""
    _delete(account, by=by)


# Contacts ------------------------------------------------------------------------------------


def _contact_save(contact: Contact, *, by: Actor, data: Mapping[str, Any], new: bool) -> Contact:
    before = None if new else record_snapshot(contact)
    _assign(contact, data)
    contact.email = display_email(contact.email)
    contact.email_normalized = normalize_email(contact.email)
    _validate(contact, data, exclude={"email_normalized"})
    try:
        # The unique constraint is the check: no query before the write, and a concurrent
        # insert of the same email is caught the same way. Callers run this in an atomic
        # block, which the failed statement rolls back (to a savepoint, unless the caller's
        # whole transaction is meant to fail with it).
        contact.save()
    except IntegrityError as exc:
        if not email_taken(exc):
            raise
        raise ValidationError(
            {"email": ValidationError(DUPLICATE_EMAIL, code="duplicate")}
        ) from exc
    audit_record(
        actor=by,
        action=AuditEntry.Action.CREATE if new else AuditEntry.Action.UPDATE,
        instance=contact,
        before=before,
        after=record_snapshot(contact),
    )
    return contact


def email_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the unique email index refusing a second contact: PostgreSQL names
    the constraint (``diag.constraint_name``), SQLite the column after "UNIQUE constraint
    failed". Any other failure (a NOT NULL, a CHECK) is not a duplicate, whatever it quotes."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == "contact_email_unique"
    return "UNIQUE constraint failed: crm_contact.email_normalized" in str(exc)


def contact_create(*, by: Actor, data: Mapping[str, Any], savepoint: bool = True) -> Contact:
    """Create a contact; its email must be new after normalisation. Listeners (live segments,
    workflows) hear of it after commit. ``savepoint``: as for ``account_create``."""
    with transaction.atomic(savepoint=savepoint):
        contact = _contact_save(Contact(), by=by, data=_with_owner(by, data), new=True)
        records_changed(contact_ids=[contact.pk])
        return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: Actor, data: Mapping[str, Any]) -> Contact:
    """Change a contact's fields (its leads are rescored)."""
    contact = _contact_save(contact, by=by, data=data, new=False)
    records_changed(contact_ids=[contact.pk])
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, by: Actor) -> None:
    """Delete a contact with its interactions and tasks; its leads stay, orphaned."""
    _delete(contact, by=by)


# Leads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadCreated:
    lead: Lead
    contact: Contact | None
    contact_created: bool


def lead_create(
    *,
    by: Actor,
    data: Mapping[str, Any],
    new_contact: Mapping[str, Any] | None = None,
    savepoint: bool = True,
) -> LeadCreated:
    """Create a lead, linked to an existing contact (``parent_contact_id``) or to the contact
    described by ``new_contact`` — which is created, unless a contact with the same normalised
    email exists, in which case the lead is linked to it (SPEC §2.1: no duplicates).
    ``savepoint``: as for ``account_create``.
    """
    with transaction.atomic(savepoint=savepoint):
        contact: Contact | None = None
        created = False
        data = dict(data)
        if new_contact is not None:
            if data.get("parent_contact_id") is not None:
                raise ValidationError(
                    {
                        "contact": ValidationError(
                            "Give either parent_contact_id or a new contact, not both.",
                            code="conflict",
                        )
                    }
                )
            contact, created = _contact_find_or_create(by=by, data=new_contact)
            data["parent_contact_id"] = contact.pk
            if data.get("parent_account_id") is None and contact.account_id is not None:
                data["parent_account_id"] = contact.account_id
        elif isinstance(data.get("parent_contact"), Contact):
            contact = data["parent_contact"]
            if data.get("parent_account") is None and data.get("parent_account_id") is None:
                data["parent_account_id"] = contact.account_id
        elif data.get("parent_contact_id") is not None:
            contact = Contact.objects.filter(pk=data["parent_contact_id"]).first()
            if contact is not None and data.get("parent_account_id") is None:
                data["parent_account_id"] = contact.account_id
        lead = _save_new(Lead(), by=by, data=_with_owner(by, _status_checked(None, data)))
        if lead.status != Lead.Status.OPEN:
            lead_status_changed.send(Lead, lead=lead, old=None)
        records_changed(lead_ids=[lead.pk])
        return LeadCreated(lead=lead, contact=contact, contact_created=created)


def _contact_find_or_create(*, by: Actor, data: Mapping[str, Any]) -> tuple[Contact, bool]:
    email = normalize_email(data.get("email"))
    if email:
        existing = Contact.objects.filter(email_normalized=email).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return _contact_save(Contact(), by=by, data=_with_owner(by, data), new=True), True
    except ValidationError as exc:
        duplicate = (
            any(e.code == "duplicate" for e in exc.error_dict.get("email", []))
            if hasattr(exc, "error_dict")
            else False
        )
        if duplicate and email:
            # Someone created the same person a moment ago: link to theirs.
            return Contact.objects.get(email_normalized=email), False
        raise _prefix_errors(exc, "contact") from exc


def _prefix_errors(exc: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {f"{prefix}.{field}": errors for field, errors in exc.error_dict.items()}
    )


def _status_checked(lead: Lead | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The one set of rules for a lead's status, whoever changes it (the lead form, the API,
    qualifying): a lead with an opportunity is not disqualified; a qualified lead stays
    qualified; a disqualified one says why and is reactivated before it is qualified; leaving
    disqualified clears the reason."""
    data = dict(data)
    old = lead.status if lead is not None else None
    new = data.get("status", old)
    if new == old or new not in Lead.Status.values:
        return data  # unchanged, or not a status at all: the model's validation says so
    if new == Lead.Status.DISQUALIFIED:
        if lead is not None and Opportunity.objects.filter(lead=lead).exists():
            raise DomainError(
                "lead_has_opportunity",
                "A lead with an opportunity cannot be disqualified.",
                fields={"status": "This lead has an opportunity."},
            )
        if not str(data.get("status_reason") or "").strip():
            raise DomainError(
                "reason_required",
                "Say why the lead is disqualified (status_reason).",
                fields={"status_reason": "Why the lead is disqualified."},
                status=422,
            )
    if old == Lead.Status.QUALIFIED:
        raise DomainError(
            "lead_qualified",
            "A qualified lead stays qualified: work on its opportunity instead.",
            fields={"status": "qualified"},
        )
    if old == Lead.Status.DISQUALIFIED and new == Lead.Status.QUALIFIED:
        raise DomainError(
            "lead_disqualified",
            "Reactivate the lead first, then qualify it.",
            fields={"status": "disqualified"},
        )
    if old == Lead.Status.DISQUALIFIED:
        data["status_reason"] = ""  # leaving disqualified: the reason no longer holds
    return data


@transaction.atomic
def lead_update(*, lead: Lead, by: Actor, data: Mapping[str, Any]) -> Lead:
    """Change a lead's fields. Status changes follow ``_status_checked``; the business process
    hears of them (``lead_status_changed``) in the same transaction."""
    old = lead.status
    data = _status_checked(lead, data)
    lead_changing.send(Lead, lead=lead, data=data)  # listeners may refuse (DomainError)
    lead = _save_changes(lead, by=by, data=data)
    if lead.status != old:
        lead_status_changed.send(Lead, lead=lead, old=old)
    records_changed(lead_ids=[lead.pk])
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead, by: Actor) -> None:
    """Delete a lead; refused while an opportunity refers to it."""
    _delete(lead, by=by)


# Opportunities -------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(*, by: Actor, data: Mapping[str, Any]) -> Opportunity:
    """Create an opportunity; contact and account default to the lead's."""
    data = dict(data)
    lead_id = data.get("lead_id")
    if lead_id is not None:
        lead = Lead.objects.filter(pk=lead_id).first()
        if lead is not None:
            if lead.status == Lead.Status.DISQUALIFIED:
                raise DomainError(
                    "lead_disqualified",
                    "A disqualified lead cannot become an opportunity.",
                    fields={"lead_id": "This lead is disqualified."},
                )
            # Not given, or given as null: the lead's contact and account.
            if data.get("contact_id") is None:
                data["contact_id"] = lead.parent_contact_id
            if data.get("account_id") is None:
                data["account_id"] = lead.parent_account_id
            if Opportunity.objects.filter(lead_id=lead_id).exists():
                raise ValidationError(
                    {
                        "lead_id": ValidationError(
                            "This lead already has an opportunity.", code="duplicate"
                        )
                    }
                )
    opportunity = _save_new(Opportunity(), by=by, data=_with_owner(by, data))
    lead = (
        Lead.objects.filter(pk=opportunity.lead_id, status=Lead.Status.OPEN).first()
        if opportunity.lead_id is not None
        else None
    )
    if lead is not None:
        # An opportunity made from an open lead qualifies it (its process instance ends).
        lead_update(lead=lead, by=by, data={"status": Lead.Status.QUALIFIED})
    return opportunity


@transaction.atomic
def opportunity_update(
    *, opportunity: Opportunity, by: Actor, data: Mapping[str, Any]
) -> Opportunity:
    """Change an opportunity's fields."""
    return _save_changes(opportunity, by=by, data=data)


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity, by: Actor) -> None:
    """Delete an opportunity."""
    _delete(opportunity, by=by)


# Tasks ---------------------------------------------------------------------------------------


def _task_done_time(task: Task, data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "done" in data:
        if data["done"] and not task.done:
            data["done_at"] = timezone.now()
        elif not data["done"]:
            data["done_at"] = None
    return data


def _task_needs_worker(task: Task) -> None:
    if task.assignee_id is None and not task.queue:
        raise ValidationError(
            {
                "assignee_id": ValidationError(
                    "A task needs an assignee or a queue.", code="required"
                )
            }
        )


@transaction.atomic
def task_create(*, by: Actor, data: Mapping[str, Any]) -> Task:
    """Create a task for a person or a queue."""
    task = Task()
    data = _task_done_time(task, _with_owner(by, data))
    _assign(task, data)
    _task_needs_worker(task)
    task = _save_new(task, by=by, data=data)
    _notify_assignee(task, by=by, previous_assignee_id=None)
    return task


@transaction.atomic
def task_update(*, task: Task, by: Actor, data: Mapping[str, Any]) -> Task:
    """Change a task; ticking ``done`` stamps ``done_at``."""
    data = _task_done_time(task, data)
    before = record_snapshot(task)
    previous_assignee_id = task.assignee_id
    _assign(task, data)
    _task_needs_worker(task)
    _validate(task, data)
    task.save()
    audit_update(actor=by, instance=task, before=before)
    _notify_assignee(task, by=by, previous_assignee_id=previous_assignee_id)
    return task


def _notify_assignee(task: Task, *, by: Actor, previous_assignee_id: int | None) -> None:
    """Tell a newly assigned user about the task, in the background, once the change commits."""
    assignee_id = task.assignee_id
    if assignee_id is None or assignee_id == previous_assignee_id or task.done:
        return
    if by is not None and by.is_authenticated and by.pk == assignee_id:
        return  # nobody needs to be told about what they did themselves
    from leadcycle.notifications.tasks import notify_task_assigned

    task_id = task.pk
    transaction.on_commit(lambda: notify_task_assigned.enqueue(task_id, assignee_id))


@transaction.atomic
def task_delete(*, task: Task, by: Actor) -> None:
    """Delete a task."""
    _delete(task, by=by)


# Bulk ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactWithLeads:
    """One row of a bulk load: a contact's fields and the topics of its leads."""

    contact: Mapping[str, Any]
    lead_topics: Sequence[str]


class BulkCreated(NamedTuple):
    contacts_created: int
    leads_created: int


TASK_COLUMNS = (
    "kind", "subject", "lead_id", "contact_id", "assignee_id", "queue", "due_at", "done",
    "done_at", "owner_id", "created_at", "updated_at",
)  # fmt: skip


def tasks_insert(rows: Sequence[Mapping[str, Any]]) -> None:
    """Many tasks in one statement per chunk (queue tasks of the process, workflow tasks);
    each row gives every one of ``TASK_COLUMNS``."""
    insert_rows(Task, rows, columns=TASK_COLUMNS)


_BULK_CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "job_title",
    "role",
    "phone",
    "country",
    "account_id",
    "marketing_only",
    "consent",
    "origin_channel",
)
_BULK_CONTACT_COLUMNS = (
    *_BULK_CONTACT_FIELDS,
    "email_normalized",
    "owner_id",
    "created_at",
    "updated_at",
)
_BULK_LEAD_COLUMNS = (
    "topic",
    "source_channel",
    "origin_ref",
    "campaign",
    "parent_contact_id",
    "parent_account_id",
    "status",
    "sales_ready",
    "telemarketing_ready",
    "description",
    "owner_id",
    "created_at",
    "updated_at",
)


@transaction.atomic
def contacts_with_leads_create_bulk(
    *,
    by: Actor,
    rows: Iterable[ContactWithLeads],
    channel: str = Channel.IMPORT,
    batch_size: int = 2000,
    audit: bool = True,
) -> BulkCreated:
    """Create contacts and their leads in bulk, set-based: a fixed number of statements per
    batch of ``batch_size`` rows, whatever the batch holds.

    Rows whose normalised email exists link their leads to the existing contact (its fields are
    left alone); rows of one batch naming the same person share one new contact. Safe beside a
    concurrent writer: a contact inserted by someone else meanwhile is skipped by the database
    (``ON CONFLICT DO NOTHING``) and linked. Every row is validated before anything is written;
    an invalid row raises ``ValidationError`` naming it (``rows[3].email``) and nothing is
    written. Each created record gets its audit entry.
    """
    rows = list(rows) if not isinstance(rows, list) else rows
    cleaned = [_bulk_clean(index, row, channel) for index, row in enumerate(rows)]
    totals = [0, 0]
    for start in range(0, len(cleaned), batch_size):
        contacts, leads = _bulk_batch(
            by=by, rows=cleaned[start : start + batch_size], channel=channel, audit=audit
        )
        totals[0] += contacts
        totals[1] += leads
    return BulkCreated(*totals)


_CONTACT_DEFAULTS = {
    f.attname: f.get_default() for f in Contact._meta.concrete_fields if f.has_default()
}


def _bulk_clean(
    index: int, row: ContactWithLeads, channel: str
) -> tuple[dict[str, Any], list[str]]:
    """A row's contact values with defaults, checked like ``full_clean`` would (cheaply)."""
    unknown = set(row.contact) - set(_BULK_CONTACT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError(
            {f"rows[{index}].{name}": ValidationError("Unknown field.", code="unknown_field")}
        )
    values = {name: _CONTACT_DEFAULTS.get(name, "") for name in _BULK_CONTACT_FIELDS}
    values["account_id"] = None
    values["origin_channel"] = channel
    values.update({k: v for k, v in row.contact.items() if v is not None})
    values["email"] = display_email(values["email"])
    for name in _BULK_CONTACT_FIELDS:
        field = Contact._meta.get_field(name)
        value = values[name]
        if not isinstance(field, models.CharField) or not value:
            continue
        try:
            field.run_validators(value)  # length, and the email format for email
            if field.choices and value not in dict(field.flatchoices):
                raise ValidationError(f"{value!r} is not a valid choice.", code="invalid_choice")
        except ValidationError as exc:
            raise ValidationError({f"rows[{index}].{name}": exc}) from exc
    for topic in row.lead_topics:
        if not topic or len(topic) > 200:
            raise ValidationError(
                {
                    f"rows[{index}].lead_topics": ValidationError(
                        "A lead topic must have 1 to 200 characters.", code="invalid"
                    )
                }
            )
    values["email_normalized"] = normalize_email(values["email"])
    return values, list(row.lead_topics)


def _bulk_batch(
    *, by: Actor, rows: list[tuple[dict[str, Any], list[str]]], channel: str, audit: bool
) -> tuple[int, int]:
    owner_id = by.pk if by is not None and by.is_authenticated else None
    now = timezone.now()
    emails = list({values["email_normalized"] for values, _ in rows if values["email_normalized"]})
    # Existing contacts: (id, account) by normalised email. One query per batch.
    parents: dict[str, tuple[int, int | None]] = {
        str(email): (pk, account_id)
        for pk, email, account_id in Contact.objects.filter(
            email_normalized__in=emails
        ).values_list("id", "email_normalized", "account_id")
    }
    new_by_email: dict[str, dict[str, Any]] = {}
    new_without_email: list[dict[str, Any]] = []
    for values, _ in rows:
        email = values["email_normalized"]
        if email is None:
            new_without_email.append(values)
        elif email not in parents:
            new_by_email.setdefault(email, values)  # first row wins for a repeated person
    stamp = {"owner_id": owner_id, "created_at": now, "updated_at": now}
    for values in [*new_by_email.values(), *new_without_email]:
        values.update(stamp)
    inserted = insert_rows(
        Contact,
        # Sorted by email so concurrent loads take the unique-index locks in one order and
        # cannot deadlock on each other.
        [new_by_email[email] for email in sorted(new_by_email)],
        columns=_BULK_CONTACT_COLUMNS,
        skip_conflicts_on="email_normalized",
        returning=("id", "email_normalized"),
    )
    created_contacts = {email: pk for pk, email in inserted}
    for email, pk in created_contacts.items():
        parents[email] = (pk, new_by_email[email]["account_id"])
    raced = [email for email in new_by_email if email not in created_contacts]
    if raced:
        # Another writer created these people after our lookup: link to theirs.
        parents.update(
            {
                str(email): (pk, account_id)
                for pk, email, account_id in Contact.objects.filter(
                    email_normalized__in=raced
                ).values_list("id", "email_normalized", "account_id")
            }
        )
    # Contacts without email never conflict; RETURNING gives their ids in insert order.
    no_email_ids = [
        pk
        for (pk,) in insert_rows(
            Contact,
            new_without_email,
            columns=_BULK_CONTACT_COLUMNS,
            returning=("id",),
        )
    ]
    no_email_parent = dict(zip(map(id, new_without_email), no_email_ids, strict=True))

    lead_rows: list[dict[str, Any]] = []
    for values, topics in rows:
        email = values["email_normalized"]
        if email is None:
            parent_id, account_id = no_email_parent[id(values)], values["account_id"]
        else:
            parent_id, account_id = parents[email]
        lead_rows.extend(
            {
                "topic": topic,
                "source_channel": channel,
                "origin_ref": "",
                "campaign": "",
                "parent_contact_id": parent_id,
                "parent_account_id": account_id,
                "status": Lead.Status.OPEN,
                "sales_ready": False,
                "telemarketing_ready": False,
                "description": "",
                **stamp,
            }
            for topic in topics
        )
    lead_ids = [
        pk for (pk,) in insert_rows(Lead, lead_rows, columns=_BULK_LEAD_COLUMNS, returning=("id",))
    ]
    records_changed(lead_ids=lead_ids)  # one rescore task after commit, for every batch
    if audit:
        contact_entries = [
            (pk, new_by_email[email]) for email, pk in created_contacts.items()
        ] + list(zip(no_email_ids, new_without_email, strict=True))
        _bulk_audit_creates(
            by=by,
            created=[("crm.contact", pk, values) for pk, values in contact_entries]
            + [("crm.lead", pk, values) for pk, values in zip(lead_ids, lead_rows, strict=True)],
            now=now,
        )
    return len(created_contacts) + len(no_email_ids), len(lead_ids)


def _bulk_audit_creates(
    *, by: Actor, created: list[tuple[str, int, dict[str, Any]]], now: datetime.datetime
) -> None:
    """One ``create`` audit entry per record, written set-based (no model instances)."""
    actor_id = by.pk if by is not None and by.is_authenticated else None
    # The same keys record_snapshot() gives a record created one at a time.
    skip = {"created_at", "updated_at"}
    audit_rows = []
    for record_type, pk, values in created:
        if record_type == "crm.contact":
            name = f"{values['first_name']} {values['last_name']}".strip()
            label = name or values["email"] or f"Contact {pk}"
        else:
            label = values["topic"]
        changes = {
            key.removesuffix("_id") if key.endswith("_id") else key: [None, value]
            for key, value in values.items()
            if key not in skip and value is not None and value != ""
        }
        audit_rows.append(
            {
                "actor_id": actor_id,
                "action": "create",
                "record_type": record_type,
                "record_id": pk,
                "record_repr": label[:200],
                "changes": changes,
                "at": now,
            }
        )
    insert_rows(
        AuditEntry,
        audit_rows,
        columns=("actor_id", "action", "record_type", "record_id", "record_repr", "changes", "at"),
    )


def _with_owner(by: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the acting user as owner when no owner was given."""
    data = dict(data)
    if data.get("owner_id") is None and data.get("owner") is None:
        data.pop("owner", None)
        data["owner_id"] = by.pk if by is not None and by.is_authenticated else None
    return data
