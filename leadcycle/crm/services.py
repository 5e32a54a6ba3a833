"""Writes for accounts, contacts, leads, opportunities and tasks.

Every service is atomic and writes its audit entry in the same transaction. Values are
validated by the model (``full_clean``) so the UI, the API and the CLI share one set of rules.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import (
    Actor,
    audit_bulk_create,
    audit_delete_with_cascade,
    audit_record,
    record_snapshot,
)
from leadcycle.crm.models import Account, Channel, Contact, Lead, Opportunity, Task
from leadcycle.crm.normalize import normalize_email
from leadcycle.errors import DomainError

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


def _save_new(instance: M, *, by: Actor, data: Mapping[str, Any]) -> M:
    _assign(instance, data)
    _check_references(instance, data)
    instance.full_clean()
    instance.save()
    audit_record(
        actor=by,
        action=AuditEntry.Action.CREATE,
        instance=instance,
        after=record_snapshot(instance),
    )
    return instance


def _save_changes(instance: M, *, by: Actor, data: Mapping[str, Any]) -> M:
    before = record_snapshot(instance)
    _assign(instance, data)
    _check_references(instance, data)
    instance.full_clean()
    instance.save()
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=instance,
        before=before,
        after=record_snapshot(instance),
    )
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


@transaction.atomic
def account_create(*, by: Actor, data: Mapping[str, Any]) -> Account:
    """Create an account."""
    return _save_new(Account(), by=by, data=_with_owner(by, data))


@transaction.atomic
def account_update(*, account: Account, by: Actor, data: Mapping[str, Any]) -> Account:
    """Change an account's fields."""
    return _save_changes(account, by=by, data=data)


@transaction.atomic
def account_delete(*, account: Account, by: Actor) -> None:
    """Delete an account; its contacts and leads stay, unlinked."""
    _delete(account, by=by)


# Contacts ------------------------------------------------------------------------------------


def _contact_save(contact: Contact, *, by: Actor, data: Mapping[str, Any], new: bool) -> Contact:
    before = None if new else record_snapshot(contact)
    _assign(contact, data)
    _check_references(contact, data)
    contact.email = (contact.email or "").strip()
    contact.email_normalized = normalize_email(contact.email)
    contact.full_clean(exclude={"email_normalized"})
    if contact.email_normalized and (
        Contact.objects.filter(email_normalized=contact.email_normalized)
        .exclude(pk=contact.pk)
        .exists()
    ):
        raise ValidationError({"email": ValidationError(DUPLICATE_EMAIL, code="duplicate")})
    try:
        # The unique constraint is the real guard: a concurrent insert of the same email
        # lands here even though the check above passed.
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:
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


@transaction.atomic
def contact_create(*, by: Actor, data: Mapping[str, Any]) -> Contact:
    """Create a contact; its email must be new after normalisation."""
    return _contact_save(Contact(), by=by, data=_with_owner(by, data), new=True)


@transaction.atomic
def contact_update(*, contact: Contact, by: Actor, data: Mapping[str, Any]) -> Contact:
    """Change a contact's fields."""
    return _contact_save(contact, by=by, data=data, new=False)


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


@transaction.atomic
def lead_create(
    *,
    by: Actor,
    data: Mapping[str, Any],
    new_contact: Mapping[str, Any] | None = None,
) -> LeadCreated:
    """Create a lead, linked to an existing contact (``parent_contact_id``) or to the contact
    described by ``new_contact`` — which is created, unless a contact with the same normalised
    email exists, in which case the lead is linked to it (SPEC §2.1: no duplicates).
    """
    contact: Contact | None = None
    created = False
    data = dict(data)
    if new_contact is not None:
        if data.get("parent_contact_id") is not None:
            raise ValidationError(
                {
                    "contact": ValidationError(
                        "Give either parent_contact_id or a new contact, not both.", code="conflict"
                    )
                }
            )
        contact, created = _contact_find_or_create(by=by, data=new_contact)
        data["parent_contact_id"] = contact.pk
        if data.get("parent_account_id") is None and contact.account_id is not None:
            data["parent_account_id"] = contact.account_id
    elif data.get("parent_contact_id") is not None:
        contact = Contact.objects.filter(pk=data["parent_contact_id"]).first()
        if contact is not None and data.get("parent_account_id") is None:
            data["parent_account_id"] = contact.account_id
    lead = _save_new(Lead(), by=by, data=_with_owner(by, data))
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


@transaction.atomic
def lead_update(*, lead: Lead, by: Actor, data: Mapping[str, Any]) -> Lead:
    """Change a lead's fields. A lead with an opportunity cannot be disqualified."""
    if (
        data.get("status") == Lead.Status.DISQUALIFIED
        and Opportunity.objects.filter(lead=lead).exists()
    ):
        raise DomainError(
            "lead_has_opportunity",
            "A lead with an opportunity cannot be disqualified.",
            fields={"status": "This lead has an opportunity."},
        )
    return _save_changes(lead, by=by, data=data)


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
    return _save_new(Opportunity(), by=by, data=_with_owner(by, data))


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
    _check_references(task, data)
    _task_needs_worker(task)
    task.full_clean()
    task.save()
    audit_record(
        actor=by,
        action=AuditEntry.Action.UPDATE,
        instance=task,
        before=before,
        after=record_snapshot(task),
    )
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
    """One row of a bulk load: a contact and the topics of its leads."""

    contact: Mapping[str, Any]
    lead_topics: Sequence[str]


@transaction.atomic
def contacts_with_leads_create_bulk(
    *,
    by: Actor,
    rows: Iterable[ContactWithLeads],
    channel: str = Channel.IMPORT,
    batch_size: int = 2000,
    audit: bool = True,
) -> tuple[int, int]:
    """Create contacts and their leads in bulk: a fixed number of statements per batch.

    Rows whose normalised email already exists link their leads to the existing contact.
    Returns ``(contacts_created, leads_created)``.
    """
    contacts_created = leads_created = 0
    batch: list[ContactWithLeads] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            c, ld = _bulk_batch(by=by, rows=batch, channel=channel, audit=audit)
            contacts_created += c
            leads_created += ld
            batch = []
    if batch:
        c, ld = _bulk_batch(by=by, rows=batch, channel=channel, audit=audit)
        contacts_created += c
        leads_created += ld
    return contacts_created, leads_created


def _bulk_batch(
    *, by: Actor, rows: list[ContactWithLeads], channel: str, audit: bool
) -> tuple[int, int]:
    owner = by if by is not None and by.is_authenticated else None
    row_contacts: list[Contact] = []
    by_email: dict[str, Contact] = {}
    for row in rows:
        contact = Contact(owner=owner, origin_channel=channel, **row.contact)
        contact.email = (contact.email or "").strip()
        contact.email_normalized = normalize_email(contact.email)
        if contact.email_normalized:
            # Two rows of one batch for the same person share one contact.
            contact = by_email.setdefault(contact.email_normalized, contact)
        row_contacts.append(contact)
    existing: dict[str, Contact] = {
        c.email_normalized or "": c
        for c in Contact.objects.filter(email_normalized__in=list(by_email)).only(
            "id", "email_normalized", "account_id"
        )
    }
    parents: dict[str, Contact] = {**by_email, **existing}
    new_contacts = list(
        {
            id(c): c
            for c in row_contacts
            if c.email_normalized is None or c.email_normalized not in existing
        }.values()
    )
    Contact.objects.bulk_create(new_contacts, batch_size=len(new_contacts) or 1)
    leads: list[Lead] = []
    for row, contact in zip(rows, row_contacts, strict=True):
        parent = parents[contact.email_normalized] if contact.email_normalized else contact
        leads.extend(
            Lead(
                owner=owner,
                topic=topic,
                source_channel=channel,
                parent_contact_id=parent.pk,
                parent_account_id=parent.account_id,
            )
            for topic in row.lead_topics
        )
    Lead.objects.bulk_create(leads, batch_size=len(leads) or 1)
    if audit:
        audit_bulk_create(actor=by, instances=[*new_contacts, *leads])
    return len(new_contacts), len(leads)


def _with_owner(by: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the acting user as owner when no owner was given."""
    data = dict(data)
    if data.get("owner_id") is None and data.get("owner") is None:
        data.pop("owner", None)
        data["owner_id"] = by.pk if by is not None and by.is_authenticated else None
    return data
