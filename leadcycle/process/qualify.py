"""Qualifying and disqualifying a lead (SPEC §6).

Qualifying creates, by the process settings or the user's choice, an account, a contact and an
opportunity; where the lead already has a parent contact or account those are used, and where
a record to create looks like an existing one (the same normalised email; the same web domain
or name) the existing ones are offered for linking instead (``duplicates_found``, with the
candidates) — the caller links one or says ``create_anyway`` (accounts only: an email is
unique). The opportunity keeps the lead's topic, contact, account and campaign; the lead closes
as qualified. One transaction, with the lead row locked first: of two concurrent
qualifications of the same lead, the second finds it qualified and changes nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from leadcycle.audit.services import Actor
from leadcycle.crm import services as crm
from leadcycle.crm.models import Account, Contact, Lead, Opportunity
from leadcycle.crm.normalize import normalize_domain, normalize_email
from leadcycle.errors import DomainError
from leadcycle.process.services import instance_finish, process_settings

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

    def __bool__(self) -> bool:
        return bool(self.contacts or self.accounts)


def _choice(data: Mapping[str, Any], name: str) -> bool:
    settings = process_settings()
    default = bool(getattr(settings, name))
    if not settings.ask_each_time or data.get(name) is None:
        return default
    return bool(data[name])


def duplicates_for(*, lead: Lead, data: Mapping[str, Any]) -> Duplicates:
    """The existing records that what qualifying would create looks like."""
    found = Duplicates()
    contact = data.get("contact") or {}
    if lead.parent_contact_id is None and not data.get("link_contact_id"):
        email = normalize_email(contact.get("email"))
        first, last = (
            (contact.get("first_name") or "").strip(),
            (contact.get("last_name") or "").strip(),
        )
        query = Q(email_normalized=email) if email else Q(pk__in=[])
        if first and last:
            query |= Q(first_name__iexact=first, last_name__iexact=last)
        found.contacts = list(Contact.objects.filter(query).order_by("id")[:10])
    account = data.get("account") or {}
    if lead.parent_account_id is None and not data.get("link_account_id"):
        domain = normalize_domain(account.get("web_domain"))
        name = (account.get("name") or "").strip()
        query = Q(web_domain=domain) if domain else Q(pk__in=[])
        if name:
            query |= Q(name_lower=name.lower())
        found.accounts = list(
            Account.objects.annotate(name_lower=Lower("name")).filter(query).order_by("id")[:10]
        )
    return found


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
    if Opportunity.objects.filter(lead=lead).exists():
        raise DomainError("lead_has_opportunity", "This lead already has an opportunity.")
    created: list[str] = []
    duplicates = duplicates_for(lead=lead, data=data)
    contact = lead.parent_contact
    if contact is None and data.get("link_contact_id"):
        contact = _existing(Contact, data["link_contact_id"], "link_contact_id")
    elif contact is None and _choice(data, "create_contact"):
        if duplicates.contacts:
            raise _offer("contact", duplicates.contacts)
        values = dict(data.get("contact") or {})
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
    if account is None and data.get("link_account_id"):
        account = _existing(Account, data["link_account_id"], "link_account_id")
    elif account is None and _choice(data, "create_account") and (data.get("account") or {}):
        if duplicates.accounts and not data.get("create_anyway"):
            raise _offer("account", duplicates.accounts)
        account = crm.account_create(by=by, data=dict(data["account"]))
        created.append("account")
    if contact is not None and contact.account_id is None and account is not None:
        contact = crm.contact_update(contact=contact, by=by, data={"account_id": account.pk})
    opportunity = None
    if _choice(data, "create_opportunity"):
        extra = {
            k: v
            for k, v in dict(data.get("opportunity") or {}).items()
            if k in ("name", "value", "expected_close", "stage")
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
    instance_finish(lead=lead, outcome="qualified")
    return Qualified(lead, opportunity, contact, account, created)


def _existing(model: type[Contact] | type[Account], pk: object, name: str) -> Any:
    record = model.objects.filter(pk=pk).first() if isinstance(pk, int) else None
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
    instance_finish(lead=lead, outcome="disqualified")
    return lead


@transaction.atomic
def lead_reactivate(*, lead: Lead, by: Actor) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status != Lead.Status.DISQUALIFIED:
        raise DomainError(
            "not_disqualified", "Only a disqualified lead can be reactivated.",
            fields={"status": lead.status},
        )  # fmt: skip
    lead = crm.lead_update(lead=lead, by=by, data={"status": Lead.Status.OPEN, "status_reason": ""})
    instance_finish(lead=lead, outcome="", reopen=True)
    return lead
