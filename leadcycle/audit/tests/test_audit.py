"""The audit trail: what one entry holds, and how a record's trail is read."""

import datetime
from decimal import Decimal

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.selectors import audit_trail
from leadcycle.audit.services import audit_bulk_create, audit_record, record_snapshot
from leadcycle.crm.models import Lead
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_snapshot_holds_field_values_foreign_keys_by_id_and_no_timestamps():
    account = AccountFactory()
    contact = ContactFactory(account=account, first_name="Anna")
    snapshot = record_snapshot(contact)
    assert snapshot["first_name"] == "Anna"
    assert snapshot["account"] == account.pk
    assert "id" not in snapshot and "created_at" not in snapshot and "updated_at" not in snapshot


def test_snapshot_values_are_json_friendly():
    opportunity = OpportunityFactory(
        value=Decimal("1234.50"), expected_close=datetime.date(2026, 3, 1)
    )
    snapshot = record_snapshot(opportunity)
    assert snapshot["value"] == "1234.50"
    assert snapshot["expected_close"] == "2026-03-01"


def test_update_entry_keeps_only_changed_fields():
    lead = LeadFactory()
    entry = audit_record(
        actor=None,
        action="update",
        instance=lead,
        before={"topic": "A", "campaign": "X", "status": "open"},
        after={"topic": "B", "campaign": "X", "status": "open"},
    )
    assert entry.changes == {"topic": ["A", "B"]}


def test_update_without_changes_writes_nothing():
    lead = LeadFactory()
    assert (
        audit_record(actor=None, action="update", instance=lead, before={"a": 1}, after={"a": 1})
        is None
    )
    assert not AuditEntry.objects.exists()


def test_entry_records_the_actor_and_the_record():
    user = UserFactory(username="alice")
    lead = LeadFactory(topic="Webinar")
    entry = audit_record(actor=user, action="create", instance=lead, after={"topic": "Webinar"})
    entry.refresh_from_db()
    assert (entry.actor, entry.record_type, entry.record_id, entry.record_repr) == (
        user,
        "crm.lead",
        lead.pk,
        "Webinar",
    )
    assert entry.changes == {"topic": [None, "Webinar"]}
    assert entry.at is not None


def test_trail_is_the_records_own_newest_first():
    lead, other = LeadFactory(), LeadFactory()
    first = audit_record(actor=None, action="create", instance=lead, after={"topic": "a"})
    audit_record(actor=None, action="create", instance=other, after={"topic": "b"})
    second = audit_record(
        actor=None, action="update", instance=lead, before={"topic": "a"}, after={"topic": "c"}
    )
    assert list(audit_trail(instance=lead)) == [second, first]


def test_trail_does_not_mix_record_types_with_the_same_id():
    lead = LeadFactory()
    account = AccountFactory()
    AuditEntry.objects.create(
        action="create", record_type="crm.account", record_id=lead.pk, record_repr="x"
    )
    audit_record(actor=None, action="create", instance=lead, after={"topic": "a"})
    assert [e.record_type for e in audit_trail(instance=lead)] == ["crm.lead"]
    assert account is not None


def test_bulk_entries_one_per_record_without_empty_values():
    user = UserFactory()
    leads = LeadFactory.create_batch(3, campaign="")
    audit_bulk_create(actor=user, instances=leads)
    entries = AuditEntry.objects.order_by("record_id")
    assert [e.record_id for e in entries] == [lead.pk for lead in leads]
    for entry, lead in zip(entries, leads, strict=True):
        assert entry.action == "create" and entry.actor == user
        assert entry.changes["topic"] == [None, lead.topic]
        assert "campaign" not in entry.changes


def test_history_survives_the_deletion_of_the_actor():
    user = UserFactory()
    lead = LeadFactory()
    audit_record(actor=user, action="create", instance=lead, after={"topic": lead.topic})
    user.delete()
    [entry] = audit_trail(instance=lead)
    assert entry.actor is None
    assert Lead.objects.filter(pk=lead.pk).exists()
