"""Two people merging the same pair at once, in opposite directions (PostgreSQL: SQLite
serialises writers). Both records are locked in id order, so one merge wins and the other is
told the record is gone; every lead ends on the one contact left."""

import threading

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Contact, Lead
from leadcycle.duplicates.models import Merge
from leadcycle.duplicates.services import record_merge
from leadcycle.errors import DomainError
from leadcycle.testing.factories import ContactFactory, LeadFactory


@pytest.mark.django_db(transaction=True)
def test_opposite_merges_of_one_pair_at_once_leave_one_contact_with_every_lead(on_postgresql):
    ada = ContactFactory(first_name="Ada", last_name="Lovelace")
    twin = ContactFactory(first_name="Ada", last_name="Lovelace")
    leads = {LeadFactory(parent_contact=c).pk for c in (ada, twin) for _ in range(5)}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(survivor: Contact, merged: Contact) -> None:
        try:
            barrier.wait(10)
            record_merge(entity="contact", survivor_id=survivor.pk, merged_id=merged.pk, by=None)
            outcomes.append("merged")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=run, args=(ada, twin)),
        threading.Thread(target=run, args=(twin, ada)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["merged", "not_found"]
    (left,) = Contact.objects.filter(pk__in=[ada.pk, twin.pk])
    assert set(Lead.objects.filter(parent_contact=left).values_list("pk", flat=True)) == leads
    assert Merge.objects.count() == 1
