import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Interaction, Lead
from leadcycle.events.models import Event, Registration, RejectedRegistration
from leadcycle.events.services import event_create


@pytest.fixture
def make_event(db) -> Callable[..., Event]:
    """``make_event(slug="summit", **fields)`` → a published event a week from now."""

    def make(slug: str = "summit", **overrides: object) -> Event:
        start = timezone.now() + datetime.timedelta(days=7)
        data = {
            "name": "Nordic Data Summit",
            "slug": slug,
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=8),
            "campaign": "Summit 2026",
            **overrides,
        }
        return event_create(by=None, data=data)

    return make


def person(n: int = 0, **overrides: object) -> dict[str, object]:
    """What a registrant submits."""
    names = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Edsger", "Dijkstra")]
    first, last = names[n % len(names)]
    suffix = "" if n < len(names) else str(n)
    return {
        "first_name": first,
        "last_name": last + suffix,
        "email": f"{first.lower()}{suffix}@example.com",
        **overrides,
    }


def written() -> dict[str, int]:
    """Row counts of everything a registration may write."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Account,
            Contact,
            Lead,
            Interaction,
            Registration,
            RejectedRegistration,
            AuditEntry,
            Event,
        )
    }
