"""Query counts of the hot paths: registering, the check-in tap, and promotion, which is
set-based (the same queries for one promoted registrant as for twenty)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcycle.events.services import (
    event_update,
    registration_cancel,
    registration_check_in,
    registration_create,
)
from leadcycle.events.tests.conftest import person

pytestmark = pytest.mark.django_db


def queries(action):
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def test_registering_a_new_person_and_again_stays_within_its_query_budget(make_event):
    event = make_event()
    registration_create(event=event, raw=person(1))  # strategies and event warm
    new = queries(lambda: registration_create(event=event, raw=person(0, company="AE")))
    again = queries(lambda: registration_create(event=event, raw=person(0)))
    # intake's matching and the CRM services (contact, account, lead with their audit rows)
    # are most of it; the event's own part is lock, strategy, duplicate check, seats, insert,
    # interaction and audit.
    # On PostgreSQL a new company also takes its creation lock and looks again (2 queries).
    assert new <= 36 + (2 if connection.vendor == "postgresql" else 0)
    assert again <= 8


def test_the_check_in_tap_is_a_handful_of_queries(make_event):
    registration = registration_create(event=make_event(), raw=person(0)).registration
    assert queries(lambda: registration_check_in(registration=registration, by=None)) <= 7


@pytest.mark.parametrize("waiting", [2, 21])
def test_promotion_is_set_based(make_event, waiting):
    event = make_event(capacity=1)
    first = registration_create(event=event, raw=person(0)).registration
    for i in range(waiting):
        registration_create(event=event, raw=person(i + 1))
    # one freed seat (one promoted), then room for everyone (1 or 20 promoted): the same
    # queries whatever the number promoted
    assert queries(lambda: registration_cancel(registration=first)) == 11
    assert queries(lambda: event_update(event=event, by=None, data={"capacity": None})) == 12
    assert event.registrations.filter(status="waitlisted").count() == 0
