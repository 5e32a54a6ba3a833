"""Reads for events: the public event, seat counts, the staff lists (one spec for the UI and
the API), the check-in search and the CSV export."""

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from leadcycle.crm.listing import BOOL, Filter, ListSpec, Page, filtered_queryset, list_page
from leadcycle.events.models import Event, Registration

_S = Registration.Status


def _count(status: str) -> Count:
    return Count("registrations", filter=Q(registrations__status=status))


EVENT_COUNTS = {
    "registered_count": _count(_S.REGISTERED),
    "waitlisted_count": _count(_S.WAITLISTED),
    "checked_in_count": _count(_S.CHECKED_IN),
    "cancelled_count": _count(_S.CANCELLED),
}

EVENT_LIST = ListSpec(
    model=Event,
    search_fields=("name", "location", "campaign", "slug"),
    filters={
        "is_published": Filter("is_published", BOOL, label="Published"),
    },
    sort_fields=("name", "starts_at", "ends_at", "created_at"),
    default_sort="starts_at",
    annotate=EVENT_COUNTS,
)
EVENT_WHEN = ("upcoming", "past", "all")

REGISTRATION_LIST = ListSpec(
    model=Registration,
    search_fields=("first_name", "last_name", "email", "contact__email_normalized"),
    filters={
        "status": Filter("status", choices=tuple(_S.values), label="Status"),
    },
    sort_fields=("registered_at", "last_name", "first_name", "email", "status", "checked_in_at"),
    default_sort="registered_at",
    select_related=("contact", "lead", "checked_in_by"),
)


def events_page(*, params: Mapping[str, Any], now: datetime.datetime | None = None) -> Page[Event]:
    """A page of events with their registration counts. ``when``: ``upcoming`` (not ended yet,
    soonest first; the default), ``past`` (latest first) or ``all``."""
    now = now or timezone.now()
    when = str(params.get("when") or "upcoming")
    if when not in EVENT_WHEN:
        raise ValidationError(
            {"when": ValidationError(f"Must be one of: {', '.join(EVENT_WHEN)}.", code="invalid")}
        )
    base = Event.objects.all()
    if when == "upcoming":
        base = base.filter(ends_at__gte=now)
    elif when == "past":
        base = base.filter(ends_at__lt=now)
    # A QueryDict's items() gives one value per name (``{**query_dict}`` would give lists).
    merged = dict(params.items())
    if not merged.get("sort") and when != "upcoming":
        merged["sort"] = "-starts_at"  # the latest past event first
    return list_page(EVENT_LIST, merged, base)


def event_with_counts(*, event_id: int) -> Event | None:
    return Event.objects.filter(pk=event_id).annotate(**EVENT_COUNTS).first()


def registration_open(*, event: Event, now: datetime.datetime | None = None) -> bool:
    """The public may register until the event ends."""
    return event.ends_at >= (now or timezone.now())


def event_by_slug(slug: str) -> Event | None:
    """A published event (the public page and API), or ``None``."""
    return Event.objects.filter(slug=slug, is_published=True).first()


@dataclass(frozen=True)
class Seats:
    taken: int  # registered + checked in
    waitlisted: int
    checked_in: int
    capacity: int | None

    @property
    def left(self) -> int | None:
        """Free seats; ``None`` when unlimited."""
        return None if self.capacity is None else max(0, self.capacity - self.taken)

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.taken >= self.capacity


def event_seats(*, event: Event) -> Seats:
    """Seat counts of an event, in one query."""
    counts = Registration.objects.filter(event=event).aggregate(
        taken=Count("id", filter=Q(status__in=Registration.SEATED)),
        waitlisted=Count("id", filter=Q(status=_S.WAITLISTED)),
        checked_in=Count("id", filter=Q(status=_S.CHECKED_IN)),
    )
    return Seats(
        taken=counts["taken"],
        waitlisted=counts["waitlisted"],
        checked_in=counts["checked_in"],
        capacity=event.capacity,
    )


def registrations_page(*, event: Event, params: Mapping[str, Any]) -> Page[Registration]:
    """One page of an event's registrations: ``q``, ``status``, ``sort``, ``page``."""
    return list_page(REGISTRATION_LIST, params, Registration.objects.filter(event=event))


def registrations_for_check_in(*, event: Event, query: str, limit: int = 25) -> list[Registration]:
    """Who the desk may be looking for: every word of ``query`` in a name or the email;
    people not cancelled first, then by name."""
    qs = Registration.objects.filter(event=event)
    for term in query.split()[:5]:
        qs = qs.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    if not query.strip():
        # Nothing typed yet: the people still expected (not checked in, not cancelled).
        qs = qs.filter(status__in=[_S.REGISTERED, _S.WAITLISTED])
    cancelled_last = Case(When(status=_S.CANCELLED, then=Value(1)), default=Value(0))
    return list(qs.order_by(cancelled_last, "last_name", "first_name", "id")[:limit])


CSV_COLUMNS = (
    ("id", "Registration id"),
    ("status", "Status"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("registered_at", "Registered at"),
    ("checked_in_at", "Checked in at"),
    ("cancelled_at", "Cancelled at"),
    ("contact_id", "Contact id"),
    ("lead_id", "Lead id"),
    ("channel", "Channel"),
)


def registrations_csv_rows(*, event: Event, params: Mapping[str, Any]) -> Iterator[list[str]]:
    """The header and one row per registration (all pages, the list's search and filter)."""
    qs, _, _, _ = filtered_queryset(
        REGISTRATION_LIST, params, Registration.objects.filter(event=event)
    )
    yield [label for _, label in CSV_COLUMNS]
    for reg in qs.iterator(chunk_size=1000):
        row = []
        for name, _ in CSV_COLUMNS:
            value: Any
            if name in ("company", "job_title"):
                value = reg.answers.get(name, "") if isinstance(reg.answers, dict) else ""
            else:
                value = getattr(reg, name)
            if isinstance(value, datetime.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            row.append(_csv_safe("" if value is None else str(value)))
        yield row


def _csv_safe(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a leading quote stops that."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def registration_by_token(token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return Registration.objects.select_related("event").filter(cancel_token=token).first()
