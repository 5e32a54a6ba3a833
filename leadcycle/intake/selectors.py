"""Reads for intake: finding the records a matching strategy says are the same."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from leadcycle.crm.models import Contact, Lead
from leadcycle.crm.normalize import normalize_email
from leadcycle.intake.fields import normalized
from leadcycle.intake.models import MarketingForm, MatchingStrategy

# How each matchable field narrows the candidates in the database (exact on stored normalised
# values where we have them, case-insensitive otherwise); every candidate is then checked with
# the full normalisation in Python, so the database filter only has to be generous.
_CONTACT_FILTERS = {
    "contact.email": lambda v: Q(email_normalized=normalize_email(v)),
    "contact.first_name": lambda v: Q(first_name__icontains=" ".join(str(v).split())),
    "contact.last_name": lambda v: Q(last_name__icontains=" ".join(str(v).split())),
    "contact.country": lambda v: Q(country__icontains=str(v).strip()),
    "account.name": lambda v: Q(account__name__icontains=" ".join(str(v).split())),
}
_LEAD_FILTERS = {
    "contact.email": lambda v: Q(parent_contact__email_normalized=normalize_email(v)),
    "contact.first_name": lambda v: Q(
        parent_contact__first_name__icontains=" ".join(str(v).split())
    ),
    "contact.last_name": lambda v: Q(parent_contact__last_name__icontains=" ".join(str(v).split())),
    "lead.origin_ref": lambda v: Q(origin_ref=str(v).strip()),
    "lead.topic": lambda v: Q(topic__icontains=" ".join(str(v).split())),
    "lead.campaign": lambda v: Q(campaign__icontains=" ".join(str(v).split())),
    "lead.source_channel": lambda v: Q(source_channel=str(v).strip()),
}


def _record_values(record: Contact | Lead, path: str) -> object:
    entity, name = path.split(".", 1)
    if isinstance(record, Contact):
        source: Any = record if entity == "contact" else record.account
    else:
        source = record if entity == "lead" else record.parent_contact
        if entity == "account":
            source = record.parent_account
    return getattr(source, name, "") if source is not None else ""


def strategy_values_complete(strategy: MatchingStrategy, values: Mapping[str, object]) -> bool:
    """Whether every field of the strategy has a non-empty normalised value."""
    return all(normalized(path, values.get(path)) for path in strategy.fields)


def records_matching(
    *, strategy: MatchingStrategy, values: Mapping[str, object], open_leads_only: bool = True
) -> list[Contact | Lead]:
    """The records equal to ``values`` on **all** the strategy's fields, oldest first.

    ``values`` maps field paths (``contact.email``) to submitted values. Empty values never
    match (a strategy on email does not match two people without email). Leads match only
    while open, so a qualified or disqualified lead is not reopened by a new submission.
    """
    if not strategy_values_complete(strategy, values):
        return []
    filters = _CONTACT_FILTERS if strategy.target == "contact" else _LEAD_FILTERS
    condition = Q()
    for path in strategy.fields:
        condition &= filters[path](values[path])
    qs: QuerySet[Any]
    if strategy.target == "contact":
        qs = Contact.objects.filter(condition).select_related("account")
    else:
        qs = Lead.objects.filter(condition).select_related("parent_contact", "parent_account")
        if open_leads_only:
            qs = qs.filter(status=Lead.Status.OPEN)
    wanted = {path: normalized(path, values[path]) for path in strategy.fields}
    return [
        record
        for record in qs.order_by("id")[:50]
        if all(
            normalized(path, _record_values(record, path)) == want for path, want in wanted.items()
        )
    ]


def form_by_slug(slug: str) -> MarketingForm | None:
    """A live form with its fields, or ``None``."""
    return (
        MarketingForm.objects.filter(slug=slug, is_live=True)
        .select_related("contact_strategy", "lead_strategy")
        .prefetch_related("fields")
        .first()
    )
