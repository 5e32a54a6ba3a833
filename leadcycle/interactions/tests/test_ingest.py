"""Recording interactions through the API: one at a time or in batches, idempotent per event,
bad rows reported without losing good ones."""

import json
import threading

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Interaction
from leadcycle.interactions.models import InteractionKind
from leadcycle.interactions.services import BATCH_LIMIT, interactions_ingest
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_a_batch_records_good_rows_and_reports_each_bad_one(api_client):
    # Given two contacts, one with a lead
    ada = ContactFactory(email="ada@example.com")
    bob = ContactFactory(email="bob@example.com")
    bobs_lead = LeadFactory(parent_contact=bob)
    events = [
        {"kind": "email_opened", "contact_id": ada.pk, "campaign": "Spring"},
        {"kind": "email_clicked", "email": "  ADA@Example.com ", "attributes": {"url": "/x"}},
        {"kind": "website_visited", "lead_id": bobs_lead.pk},  # the lead's contact
        {"kind": "no_such_kind", "contact_id": ada.pk},
        {"kind": "email_opened", "email": "nobody@example.com"},
        {"kind": "email_opened", "contact_id": ada.pk, "lead_id": bobs_lead.pk},
        {"kind": "email_opened", "contact_id": ada.pk, "occurred_at": "yesterday"},
        {"kind": "email_opened", "contact_id": ada.pk, "color": "blue"},
        "not an object",
        {"kind": "email_opened", "contact_id": ada.pk, "occurred_at": "2026-11-30T09:00:00Z"},
    ]
    # When a marketer's integration sends them as one batch
    response = post(api_client("marketer"), "/api/v1/interactions/batch", {"events": events})
    # Then the four good ones are recorded…
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (4, 0, 6)
    assert Interaction.objects.filter(contact=ada).count() == 3
    visit = Interaction.objects.get(contact=bob)
    assert (visit.kind, visit.lead) == ("website_visited", bobs_lead)
    # …and each bad one is named with its index, field and reason
    errors = {(e["index"], e["field"], e["code"]) for e in body["errors"]}
    assert errors == {
        (3, "kind", "unknown_kind"),
        (4, "email", "unknown_contact"),
        (5, "lead_id", "lead_contact_mismatch"),
        (6, "occurred_at", "invalid"),
        (7, "color", "unknown_field"),
        (8, "event", "invalid_type"),
    }


def test_a_retried_batch_records_nothing_twice(api_client):
    ada = ContactFactory(email="ada@example.com")
    events = [
        {"kind": "email_opened", "contact_id": ada.pk, "idempotency_key": f"open-{n}"}
        for n in range(5)
    ] + [{"kind": "email_opened", "contact_id": ada.pk, "idempotency_key": "open-0"}]
    client = api_client("marketer")
    first = post(client, "/api/v1/interactions/batch", {"events": events}).json()
    again = post(client, "/api/v1/interactions/batch", {"events": events}).json()
    assert (first["created"], first["duplicates"], first["duplicate_indexes"]) == (5, 1, [5])
    assert (again["created"], again["duplicates"]) == (0, 6)
    assert Interaction.objects.count() == 5


def test_one_event_is_created_once_and_a_replay_returns_it(api_client):
    ada = ContactFactory(email="ada@example.com")
    client = api_client("marketer")
    event = {"kind": "email_clicked", "email": "Ada@example.com", "idempotency_key": "k-1"}
    created = post(client, "/api/v1/interactions", event)
    replayed = post(client, "/api/v1/interactions", event)
    assert created.status_code == 201 and replayed.status_code == 200
    assert created.json()["id"] == replayed.json()["id"]
    assert created.json()["contact_id"] == ada.pk
    assert Interaction.objects.count() == 1


def test_a_bad_single_event_is_a_422_naming_the_field(api_client):
    ContactFactory(email="ada@example.com")
    response = post(
        api_client("marketer"),
        "/api/v1/interactions",
        {"kind": "email_opened", "email": "someone@else.example"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == {
        "email": {"code": "unknown_contact", "message": "No contact has this email."}
    }
    assert Interaction.objects.count() == 0


def test_an_event_in_the_future_is_refused(api_client):
    ada = ContactFactory()
    response = post(
        api_client("marketer"),
        "/api/v1/interactions",
        {"kind": "email_opened", "contact_id": ada.pk, "occurred_at": "2999-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["occurred_at"]["code"] == "in_future"


def test_a_custom_kind_is_accepted_once_an_administrator_registers_it(api_client, admin_api):
    ada = ContactFactory()
    event = {"kind": "trial_started", "contact_id": ada.pk}
    marketer = api_client("marketer")
    assert post(marketer, "/api/v1/interactions", event).status_code == 422
    # A marketer may not register kinds; an administrator may
    kind = {"key": "trial_started", "label": "Trial started"}
    assert post(marketer, "/api/v1/interaction-kinds", kind).status_code == 403
    assert post(admin_api, "/api/v1/interaction-kinds", kind).status_code == 201
    assert post(marketer, "/api/v1/interactions", event).status_code == 201
    listed = {k["key"]: k for k in marketer.get("/api/v1/interaction-kinds").json()}
    assert listed["trial_started"]["count"] == 1 and listed["email_opened"]["builtin"]
    # A used kind cannot be removed; a built-in key cannot be registered
    refused = admin_api.delete("/api/v1/interaction-kinds/trial_started")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "kind_in_use"
    clash = post(admin_api, "/api/v1/interaction-kinds", {"key": "email_opened", "label": "x"})
    assert clash.status_code == 409 and "key" in clash.json()["error"]["fields"]
    bad = post(admin_api, "/api/v1/interaction-kinds", {"key": "Not A Key", "label": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["key"]["code"] == "invalid_key"


def test_an_unused_custom_kind_can_be_removed(admin_api):
    InteractionKind.objects.create(key="webinar_attended", label="Webinar attended")
    assert admin_api.delete("/api/v1/interaction-kinds/webinar_attended").status_code == 204
    assert not InteractionKind.objects.exists()


@pytest.mark.parametrize("role", ["telemarketer", "seller", "sales_manager"])
def test_only_marketers_and_administrators_record_interactions(api_client, role):
    ada = ContactFactory()
    client = api_client(role)
    response = post(client, "/api/v1/interactions", {"kind": "email_opened", "contact_id": ada.pk})
    assert response.status_code == 403
    assert post(client, "/api/v1/interactions/batch", {"events": []}).status_code == 403
    assert client.get("/api/v1/interactions").status_code == 200  # but they see them


def test_a_batch_over_the_limit_is_refused_whole(api_client):
    ada = ContactFactory()
    events = [{"kind": "email_opened", "contact_id": ada.pk}] * (BATCH_LIMIT + 1)
    response = post(api_client("marketer"), "/api/v1/interactions/batch", {"events": events})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"
    assert Interaction.objects.count() == 0


def test_a_batch_costs_the_same_queries_whatever_its_size(django_assert_num_queries):
    contacts = ContactFactory.create_batch(3)
    leads = [LeadFactory(parent_contact=c) for c in contacts]

    def batch(n):
        return [
            {
                "kind": "email_opened",
                "email": contacts[i % 3].email,
                "lead_id": leads[i % 3].pk,
                "idempotency_key": f"{n}-{i}",
            }
            for i in range(n)
        ]

    # kinds, contacts by email, leads, and the insert inside its transaction (a savepoint
    # here); PostgreSQL's array insert bypasses Django's query log, so it counts one less
    expected = 5 if connection.vendor == "postgresql" else 6
    with django_assert_num_queries(expected):
        assert len(interactions_ingest(events=batch(10)).created) == 10
    with django_assert_num_queries(expected):
        assert len(interactions_ingest(events=batch(400)).created) == 400


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_recorded_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    ada = ContactFactory()
    events = [
        {"kind": "email_opened", "contact_id": ada.pk, "idempotency_key": f"e-{n}"}
        for n in range(200)
    ]
    barrier = threading.Barrier(4)
    results, errors = [], []

    def send():
        try:
            barrier.wait(10)
            results.append(interactions_ingest(events=events))
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Interaction.objects.count() == 200
    assert sum(len(r.created) for r in results) == 200
    assert sum(len(r.duplicates) for r in results) == 600
