"""Concurrent replays: the same response applied by many sessions at once, and two syncs of one
connector at once, still make one contact, one lead and one interaction per response.

Threads here are real concurrent database sessions. PostgreSQL is where the race is real
(SQLite serialises writers), so these run there.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Contact, Interaction, Lead
from leadcycle.linkedin.models import Connector, ReceivedResponse, SyncRun
from leadcycle.linkedin.services import linkedin_response_apply, linkedin_sync
from leadcycle.linkedin.tests.conftest import lead_response, now_ms


def _at_once(work: Callable[[], object], n: int) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(10)
            work()
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_applies_of_one_response_write_it_once(on_postgresql, connector):
    response = lead_response("r-1", now_ms(-60))
    connector_id = connector.pk
    results = []

    def apply() -> None:
        fresh = Connector.objects.get(pk=connector_id)
        results.append(linkedin_response_apply(connector=fresh, response_json=response).new)

    errors = _at_once(apply, 10)

    assert errors == []
    assert sorted(results) == [False] * 9 + [True]
    assert ReceivedResponse.objects.count() == 1
    assert (Contact.objects.count(), Lead.objects.count()) == (1, 1)
    assert Interaction.objects.filter(kind="linkedin_form_submitted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_apply_each_response_once(on_postgresql, connector, fake_linkedin):
    fake_linkedin.add(
        *(lead_response(f"r-{i}", now_ms(-10 * i), email=f"p{i}@example.com") for i in range(6))
    )
    connector_id = connector.pk

    def sync() -> None:
        linkedin_sync(connector=Connector.objects.get(pk=connector_id), trigger="schedule")

    errors = _at_once(sync, 2)

    assert errors == []
    runs = list(SyncRun.objects.all())
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert sorted(r.created for r in runs) == [0, 6]
    assert sorted(r.skipped for r in runs) == [0, 6]
    assert (Contact.objects.count(), Lead.objects.count(), ReceivedResponse.objects.count()) == (
        6,
        6,
        6,
    )
