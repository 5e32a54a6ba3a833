"""Two bulk loads naming the same new people at the same time create each person once."""

import threading

import pytest
from django.db import connection, connections

from leadcycle.crm.models import Contact, Lead
from leadcycle.crm.services import ContactWithLeads, contacts_with_leads_create_bulk


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_loads_share_new_contacts_without_duplicates():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    shared = [f"shared{i}@example.com" for i in range(300)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def load(worker: int) -> None:
        try:
            rows = [
                ContactWithLeads({"email": email.upper() if worker % 2 else email}, [f"W{worker}"])
                for email in shared
            ] + [
                ContactWithLeads({"email": f"own{worker}-{i}@example.com"}, ["own"])
                for i in range(50)
            ]
            barrier.wait()
            contacts_with_leads_create_bulk(by=None, rows=rows, batch_size=100)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then every load succeeded, each shared person exists once with one lead per load
    assert errors == []
    assert Contact.objects.filter(email_normalized__in=shared).count() == 300
    assert Contact.objects.count() == 300 + 4 * 50
    assert Lead.objects.filter(parent_contact__email_normalized="shared7@example.com").count() == 4
    assert Lead.objects.count() == 4 * 350
