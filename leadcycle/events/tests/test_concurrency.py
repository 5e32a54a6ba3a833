"""Concurrent registrations: the last seats are never oversold, and the same new person
registering many times at once is one contact with one registration.

Threads here are real concurrent database sessions. PostgreSQL is where the race is real
(SQLite serialises writers), so these run there only.
"""

import datetime
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from leadcycle.crm.models import Contact, Interaction, Lead
from leadcycle.events.models import Event, Registration
from leadcycle.events.services import event_create, registration_cancel, registration_create

N = 20


def _event(**overrides: object) -> Event:
    start = timezone.now() + datetime.timedelta(days=3)
    return event_create(
        by=None,
        data={
            "name": "Race Day",
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=4),
            **overrides,
        },
    )


def _run_concurrently(work: list) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(work))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            barrier.wait(10)
            results.append(job())
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def _register(event_id: int, raw: dict[str, object]):
    def job():
        return registration_create(event=Event.objects.get(pk=event_id), raw=raw, channel="api")

    return job


@pytest.mark.django_db(transaction=True)
def test_twenty_people_at_once_for_five_seats_five_registered_fifteen_waitlisted(on_postgresql):
    # Given an event with five seats and a waitlist
    event = _event(capacity=5)
    # When twenty different people register at the same moment
    people = [
        {"email": f"p{i}@example.com", "first_name": f"P{i}", "last_name": "Racer"}
        for i in range(N)
    ]
    results, errors = _run_concurrently([_register(event.pk, raw) for raw in people])
    # Then exactly five took a seat and fifteen wait, one registration each, no duplicates
    assert errors == []
    assert len(results) == N
    regs = Registration.objects.filter(event=event)
    assert regs.filter(status="registered").count() == 5
    assert regs.filter(status="waitlisted").count() == 15
    assert regs.count() == N and Contact.objects.count() == N
    assert len(set(regs.values_list("contact_id", flat=True))) == N
    assert Lead.objects.count() == N


@pytest.mark.django_db(transaction=True)
def test_twenty_registrations_of_the_same_new_person_at_once_are_one(on_postgresql):
    event = _event(capacity=5)
    spellings = ["ada@example.com", "ADA@example.com", " Ada@Example.COM ", "ada@EXAMPLE.com"]
    raws = [
        {"email": spellings[i % 4], "first_name": "Ada", "last_name": "Lovelace"} for i in range(N)
    ]
    results, errors = _run_concurrently([_register(event.pk, raw) for raw in raws])
    assert errors == []
    assert Contact.objects.count() == 1
    assert Registration.objects.count() == 1
    assert Lead.objects.count() == 1
    assert Interaction.objects.filter(kind="event_registered").count() == 1
    assert sum(1 for r in results if r.created) == 1  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_the_same_new_person_by_name_at_once_is_one_contact(on_postgresql):
    event = _event(registrant_matching="name")
    raws = [
        {"email": f"grace{i}@example.com", "first_name": "Grace", "last_name": "Hopper"}
        for i in range(N)
    ]
    _, errors = _run_concurrently([_register(event.pk, raw) for raw in raws])
    assert errors == []
    assert Contact.objects.count() == 1 and Registration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_cancellations_and_registrations_at_once_never_oversell(on_postgresql):
    # Given a full event of five seats with five people waiting
    event = _event(capacity=5)
    seated = [
        registration_create(
            event=event, raw={"email": f"s{i}@example.com", "first_name": "S", "last_name": str(i)}
        ).registration
        for i in range(10)
    ]
    # When five cancel while ten more register, all at once
    cancels = [(lambda reg=reg: registration_cancel(registration=reg)) for reg in seated[:5]]
    newcomers = [
        _register(event.pk, {"email": f"n{i}@example.com", "first_name": "N", "last_name": str(i)})
        for i in range(10)
    ]
    _, errors = _run_concurrently(cancels + newcomers)
    # Then five seats are taken — never more — and the first waitlisted people got them
    assert errors == []
    regs = Registration.objects.filter(event=event)
    assert regs.filter(status="registered").count() == 5
    assert regs.filter(status="cancelled").count() == 5
    assert regs.filter(status="waitlisted").count() == 10
    assert set(regs.filter(status="registered").values_list("pk", flat=True)) == {
        r.pk for r in seated[5:]
    }
