"""Qualifying and disqualifying a lead (SPEC §6).

Qualifying creates, by the process settings or the user's choice, an account, a contact and an
opportunity; where the lead already has a parent contact or account those are used, and where
a record to create looks like an existing one (the same normalised email; the same web domain
or name) the existing ones are offered for linking instead (``duplicates_found``, with the
candidates) — the caller links one or says ``create_anyway`` (an account, or a contact that
only shares a name: a contact with the same email is always linked). The opportunity keeps the
lead's topic, contact, account and campaign; the lead closes as qualified. One transaction,
with the lead row locked first: of two concurrent qualifications of the same lead, the second
finds it qualified and changes nothing; two of different leads naming the same new company or
person wait for each other (``lock_for_create``), so the second is offered the first's record.
Each record created needs the user's right to add such records.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from leadcycle.audit.services import Actor
from leadcycle.crm import services as crm
from leadcycle.crm.models import Account, Contact, Lead, Opportunity
from leadcycle.crm.normalize import normalize_domain, normalize_email
from leadcycle.errors import DomainError
from leadcycle.locks import lock_for_create
from leadcycle.process.services import process_settings
from leadcycle.users.permissions import can

DISQUALIFY_REASONS = {
    "lost": "Lost",
    "cannot_contact": "Cannot contact",
    "no_longer_interested": "No longer interested",
    "canceled": "Canceled",
    "duplicate": "Duplicate",
    "other": "Other",
}


@dataclass
class Duplicates:
    contacts: list[Contact] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    same_email: bool = False  # a contact has the new one's email: link it, never create

    def __bool__(self) -> bool:
        return bool(self.contacts or self.accounts)


def _record(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The fields of the contact or account to create: an object of text values, else 422."""
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise DomainError(
            "invalid", f"{name} is an object of fields.", fields={name: "An object."}, status=422
        )
    for key, item in value.items():
        if item is not None and not isinstance(item, str):
            raise DomainError(
                "invalid", f"{name}.{key} is text.", fields={f"{name}.{key}": "Text."}, status=422
            )
    return dict(value)


def _link(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is not None and type(value) is not int:
        raise DomainError(
            "invalid", f"{name} is a record id.", fields={name: "A record id, or null."},
            status=422,
        )  # fmt: skip
    return value


def _choice(data: Mapping[str, Any], name: str) -> bool:
    settings = process_settings()
    default = bool(getattr(settings, name))
    if not settings.ask_each_time or data.get(name) is None:
        return default
    return bool(data[name])


def duplicates_for(*, lead: Lead, data: Mapping[str, Any]) -> Duplicates:
    """The existing records that what qualifying would create looks like."""
    found = Duplicates()
    contact = _record(data, "contact")
    if lead.parent_contact_id is None and not _link(data, "link_contact_id"):
        email, first, last = _contact_keys(contact)
        query = Q(email_normalized=email) if email else Q(pk__in=[])
        if first and last:
            query |= Q(first_name__iexact=first, last_name__iexact=last)
        found.contacts = list(Contact.objects.filter(query).order_by("id")[:10])
        found.same_email = bool(email) and any(c.email_normalized == email for c in found.contacts)
    account = _record(data, "account")
    if lead.parent_account_id is None and not _link(data, "link_account_id"):
        domain, name = _account_keys(account)
        query = Q(web_domain=domain) if domain else Q(pk__in=[])
        if name:
            query |= Q(name_lower=name)
        found.accounts = list(
            Account.objects.annotate(name_lower=Lower("name")).filter(query).order_by("id")[:10]
        )
    return found


def _contact_keys(contact: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        normalize_email(contact.get("email")) or "",
        (contact.get("first_name") or "").strip(),
        (contact.get("last_name") or "").strip(),
    )


def _account_keys(account: Mapping[str, Any]) -> tuple[str, str]:
    return normalize_domain(account.get("web_domain")) or "", (
        account.get("name") or ""
    ).strip().lower()


def _lock_identities(data: Mapping[str, Any]) -> None:
    """Two qualifications creating the same company or person wait for each other, so the
    second finds the first's record (and offers it) instead of creating a twin."""
    email, first, last = _contact_keys(_record(data, "contact"))
    domain, name = _account_keys(_record(data, "account"))
    keys = [("contact", email), ("contact-name", f"{first} {last}".lower().strip()),
            ("account", domain), ("account-name", name)]  # fmt: skip
    for kind, identity in sorted(keys):  # one order everywhere: no deadlock
        if identity:
            lock_for_create(kind, identity)


def _may_create(by: Actor, model: type[Any], what: str) -> None:
    if isinstance(by, User) and not can(by, "add", model):
        raise DomainError(
            "permission_denied",
            f"Your role may not create {model._meta.verbose_name_plural}: "
            f"link an existing one or leave it out.",
            fields={f"create_{what}": "Not allowed for your role."},
            status=403,
        )


@dataclass
class Qualified:
    lead: Lead
    opportunity: Opportunity | None
    contact: Contact | None
    account: Account | None
    created: list[str]


@transaction.atomic
def lead_qualify(*, lead: Lead, by: Actor, data: Mapping[str, Any]) -> Qualified:
    """``data``: ``create_account`` / ``create_contact`` / ``create_opportunity`` (booleans;
    default from the settings), ``contact`` and ``account`` (fields of the records to create),
    ``link_contact_id`` / ``link_account_id``, ``create_anyway`` (an account like an existing
    one), ``opportunity`` (``name``, ``value``, ``expected_close``)."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status != Lead.Status.OPEN:
        raise DomainError(
            "lead_closed",
            f"The lead is already {lead.get_status_display().lower()}.",
            fields={"status": lead.status},
        )
    existing = Opportunity.objects.filter(lead=lead).first()
    if existing is not None:
        # Made earlier by hand (before making one qualified the lead): qualifying adopts it.
        lead = crm.lead_update(lead=lead, by=by, data={"status": Lead.Status.QUALIFIED})
        return Qualified(lead, existing, lead.parent_contact, lead.parent_account, [])
    created: list[str] = []
    _lock_identities(data)
    duplicates = duplicates_for(lead=lead, data=data)
    contact = lead.parent_contact
    if contact is None and _link(data, "link_contact_id"):
        contact = _existing(Contact, data["link_contact_id"], "link_contact_id")
    elif contact is None and _choice(data, "create_contact"):
        if duplicates.same_email or (duplicates.contacts and not data.get("create_anyway")):
            raise _offer("contact", duplicates.contacts)
        _may_create(by, Contact, "contact")
        values = _record(data, "contact")
        if not (values.get("email") or values.get("last_name")):
            raise DomainError(
                "contact_required",
                "Give the new contact an email or a last name, or link an existing contact.",
                fields={"contact.email": "An email or a last name."},
                status=422,
            )
        contact = crm.contact_create(by=by, data=values)
        created.append("contact")
    account = lead.parent_account or (contact.account if contact else None)
    if account is None and _link(data, "link_account_id"):
        account = _existing(Account, data["link_account_id"], "link_account_id")
    elif account is None and _choice(data, "create_account") and _record(data, "account"):
        if duplicates.accounts and not data.get("create_anyway"):
            raise _offer("account", duplicates.accounts)
        _may_create(by, Account, "account")
        account = crm.account_create(by=by, data=_record(data, "account"))
        created.append("account")
    if contact is not None and contact.account_id is None and account is not None:
        contact = crm.contact_update(contact=contact, by=by, data={"account_id": account.pk})
    opportunity = None
    if _choice(data, "create_opportunity"):
        _may_create(by, Opportunity, "opportunity")
        wanted = data.get("opportunity") or {}
        if not isinstance(wanted, Mapping):
            raise DomainError(
                "invalid", "opportunity is an object of fields.",
                fields={"opportunity": "An object."}, status=422,
            )  # fmt: skip
        extra = {
            k: v
            for k, v in wanted.items()
            if k in ("name", "value", "expected_close", "stage") and v is not None
        }
        opportunity = crm.opportunity_create(
            by=by,
            data={
                "name": extra.pop("name", None) or lead.topic,
                "lead_id": lead.pk,
                "contact_id": contact.pk if contact else None,
                "account_id": account.pk if account else None,
                "campaign": lead.campaign,
                "owner_id": lead.owner_id or getattr(by, "pk", None),
                **extra,
            },
        )
        created.append("opportunity")
    lead = crm.lead_update(
        lead=lead,
        by=by,
        data={
            "status": Lead.Status.QUALIFIED,
            "parent_contact_id": contact.pk if contact else None,
            "parent_account_id": account.pk if account else None,
        },
    )
    return Qualified(lead, opportunity, contact, account, created)


def _existing(model: type[Contact] | type[Account], pk: object, name: str) -> Any:
    record = model.objects.filter(pk=pk).first() if type(pk) is int else None
    if record is None:
        raise DomainError(
            "does_not_exist",
            f"No {model._meta.verbose_name} with id {pk}.",
            fields={name: "Unknown."},
            status=422,
        )
    return record


def _offer(kind: str, candidates: list[Any]) -> DomainError:
    listed = "; ".join(f"{c.pk}: {c}" for c in candidates)
    return DomainError(
        "duplicates_found",
        f"Existing {kind}s look like the one to create: link one instead ({listed}).",
        fields={f"link_{kind}_id": listed},
    )


@transaction.atomic
def lead_disqualify(*, lead: Lead, by: Actor, reason: str, note: str = "") -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if Opportunity.objects.filter(lead=lead).exists():
        raise DomainError(
            "lead_has_opportunity",
            "A lead with an opportunity cannot be disqualified.",
            fields={"status": "This lead has an opportunity."},
        )
    if lead.status != Lead.Status.OPEN:
        raise DomainError(
            "lead_closed", f"The lead is already {lead.get_status_display().lower()}."
        )
    if reason not in DISQUALIFY_REASONS:
        raise DomainError(
            "reason_required",
            "Say why the lead is disqualified.",
            fields={"reason": f"One of: {', '.join(DISQUALIFY_REASONS)}."},
            status=422,
        )
    text = DISQUALIFY_REASONS[reason] + (f": {note.strip()}" if note.strip() else "")
    lead = crm.lead_update(
        lead=lead, by=by, data={"status": Lead.Status.DISQUALIFIED, "status_reason": text[:200]}
    )
    return lead


@transaction.atomic
def lead_reactivate(*, lead: Lead, by: Actor) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status != Lead.Status.DISQUALIFIED:
        raise DomainError(
            "not_disqualified", "Only a disqualified lead can be reactivated.",
            fields={"status": lead.status},
        )  # fmt: skip
    return crm.lead_update(lead=lead, by=by, data={"status": Lead.Status.OPEN, "status_reason": ""})
