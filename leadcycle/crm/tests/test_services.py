"""The CRM services: every write is validated, atomic and leaves exactly one audit entry."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcycle.audit.models import AuditEntry
from leadcycle.crm import services
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.crm.services import ContactWithLeads
from leadcycle.errors import DomainError
from leadcycle.testing.expectations import fullwidth
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return UserFactory(username="alice", role="administrator")


def entries_for(record):
    return list(
        AuditEntry.objects.filter(
            record_type=record._meta.label_lower, record_id=record.pk
        ).order_by("id")
    )


# One create / update / delete per record type, each through its own services --------------

CASES = {
    "account": dict(
        create=lambda by: services.account_create(
            by=by, data={"name": "Contoso", "industry": "Retail"}
        ),
        update=lambda rec, by, data: services.account_update(account=rec, by=by, data=data),
        delete=lambda rec, by: services.account_delete(account=rec, by=by),
        change=("industry", "Retail", "Energy"),
        unchanged={"name": "Contoso"},
    ),
    "contact": dict(
        create=lambda by: services.contact_create(
            by=by, data={"email": "anna@example.com", "job_title": "CTO"}
        ),
        update=lambda rec, by, data: services.contact_update(contact=rec, by=by, data=data),
        delete=lambda rec, by: services.contact_delete(contact=rec, by=by),
        change=("job_title", "CTO", "CEO"),
        unchanged={"email": "anna@example.com"},
    ),
    "lead": dict(
        create=lambda by: (
            services.lead_create(by=by, data={"topic": "Webinar", "campaign": "Spring"}).lead
        ),
        update=lambda rec, by, data: services.lead_update(lead=rec, by=by, data=data),
        delete=lambda rec, by: services.lead_delete(lead=rec, by=by),
        change=("campaign", "Spring", "Autumn"),
        unchanged={"topic": "Webinar"},
    ),
    "opportunity": dict(
        create=lambda by: services.opportunity_create(
            by=by, data={"name": "Big deal", "value": Decimal("100.00")}
        ),
        update=lambda rec, by, data: services.opportunity_update(opportunity=rec, by=by, data=data),
        delete=lambda rec, by: services.opportunity_delete(opportunity=rec, by=by),
        change=("stage", "qualify", "propose"),
        unchanged={"name": "Big deal"},
    ),
    "task": dict(
        create=lambda by: services.task_create(
            by=by, data={"subject": "Call Anna", "queue": "telemarketing"}
        ),
        update=lambda rec, by, data: services.task_update(task=rec, by=by, data=data),
        delete=lambda rec, by: services.task_delete(task=rec, by=by),
        change=("subject", "Call Anna", "Call Anna again"),
        unchanged={"queue": "telemarketing"},
    ),
}


@pytest.mark.parametrize("kind", CASES)
def test_create_writes_one_audit_entry_with_the_actor_and_the_new_values(kind, actor):
    case = CASES[kind]
    # when the record is created
    record = case["create"](actor)
    # then exactly one entry says who created it, with every field's value after
    [entry] = entries_for(record)
    assert AuditEntry.objects.count() == 1
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.actor == actor
    assert entry.record_repr == str(record)
    field, before, _ = case["change"]
    assert entry.changes[field] == [None, before]
    assert all(pair[0] is None for pair in entry.changes.values())
    # and the acting user owns the record
    assert entry.changes["owner"] == [None, actor.pk]


@pytest.mark.parametrize("kind", CASES)
def test_update_writes_one_entry_with_before_and_after_of_only_the_changed_field(kind, actor):
    case = CASES[kind]
    record = case["create"](actor)
    field, before, after = case["change"]
    # when one field is changed, and an unchanged value is sent along
    case["update"](record, actor, {field: after, **case["unchanged"]})
    # then one update entry holds only that field, before and after
    update = [e for e in entries_for(record) if e.action == AuditEntry.Action.UPDATE]
    assert len(update) == 1
    assert update[0].changes == {field: [before, after]}
    assert update[0].actor == actor
    record.refresh_from_db()
    assert getattr(record, field) == after


@pytest.mark.parametrize("kind", CASES)
def test_update_that_changes_nothing_writes_no_entry(kind, actor):
    case = CASES[kind]
    record = case["create"](actor)
    field, before, _ = case["change"]
    case["update"](record, actor, {field: before, **case["unchanged"]})
    assert [e.action for e in entries_for(record)] == [AuditEntry.Action.CREATE]


@pytest.mark.parametrize("kind", CASES)
def test_delete_writes_one_entry_with_the_values_before(kind, actor):
    case = CASES[kind]
    record = case["create"](actor)
    pk = record.pk
    field, before, _ = case["change"]
    # when the record is deleted
    case["delete"](record, actor)
    # then it is gone, and its trail ends with a delete entry holding what it was
    assert not type(record).objects.filter(pk=pk).exists()
    entries = list(
        AuditEntry.objects.filter(record_type=record._meta.label_lower, record_id=pk).order_by("id")
    )
    assert [e.action for e in entries] == ["create", "delete"]
    assert entries[1].actor == actor
    assert entries[1].changes[field] == [before, None]
    assert all(pair[1] is None for pair in entries[1].changes.values())


def test_contact_email_change_records_the_email_and_its_normalised_form(actor):
    contact = services.contact_create(by=actor, data={"email": "old@example.com"})
    services.contact_update(contact=contact, by=actor, data={"email": " New@Example.com "})
    update = entries_for(contact)[-1]
    assert update.changes == {
        "email": ["old@example.com", "New@Example.com"],
        "email_normalized": ["old@example.com", "new@example.com"],
    }


def test_audit_entry_and_change_are_one_transaction(actor, monkeypatch):
    # given the audit write fails
    def broken_audit(**kwargs):
        raise RuntimeError("audit store unavailable")

    contact = services.contact_create(
        by=actor, data={"email": "anna@example.com", "job_title": "CTO"}
    )
    from leadcycle.audit import services as audit_services

    # the one writer of audit entries, wherever a service reaches it from
    monkeypatch.setattr(audit_services, "audit_record", broken_audit)
    monkeypatch.setattr(services, "audit_record", broken_audit)
    # when a record is created and another one changed
    with pytest.raises(RuntimeError):
        services.account_create(by=actor, data={"name": "Ghost"})
    with pytest.raises(RuntimeError):
        services.contact_update(contact=contact, by=actor, data={"job_title": "CEO"})
    # then neither change is kept
    assert not Account.objects.filter(name="Ghost").exists()
    assert Contact.objects.get(pk=contact.pk).job_title == "CTO"


# Refused writes leave nothing behind ---------------------------------------------------------


def test_contact_with_invalid_email_is_not_created_and_not_audited(actor):
    with pytest.raises(ValidationError) as exc:
        services.contact_create(by=actor, data={"email": "not-an-email", "first_name": "X"})
    assert "email" in exc.value.message_dict
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.exists()


def test_contact_with_an_email_that_exists_after_normalisation_is_refused(actor):
    ContactFactory(email="anna@example.com")
    with pytest.raises(ValidationError) as exc:
        services.contact_create(by=actor, data={"email": "  ANNA@Example.COM "})
    assert exc.value.error_dict["email"][0].code == "duplicate"
    assert Contact.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_contact_cannot_take_another_contacts_email(actor):
    ContactFactory(email="anna@example.com")
    bob = ContactFactory(email="bob@example.com")
    with pytest.raises(ValidationError):
        services.contact_update(contact=bob, by=actor, data={"email": "ANNA@example.com"})
    assert Contact.objects.get(pk=bob.pk).email == "bob@example.com"
    assert not AuditEntry.objects.exists()


def test_unknown_field_is_refused_by_name(actor):
    with pytest.raises(ValidationError) as exc:
        services.account_create(by=actor, data={"name": "Acme", "shoe_size": 42})
    assert exc.value.error_dict["shoe_size"][0].code == "unknown_field"
    assert not Account.objects.exists()


def test_reference_to_a_missing_record_is_refused_by_field(actor):
    with pytest.raises(ValidationError) as exc:
        services.contact_create(by=actor, data={"email": "a@example.com", "account_id": 987654})
    assert exc.value.error_dict["account_id"][0].code == "does_not_exist"
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.exists()


def test_task_without_assignee_or_queue_is_refused_before_writing(actor):
    with pytest.raises(ValidationError) as exc:
        services.task_create(by=actor, data={"subject": "Nobody's job"})
    assert "assignee_id" in exc.value.message_dict
    assert not Task.objects.exists()
    assert not AuditEntry.objects.exists()


def test_ticking_a_task_done_stamps_the_time_and_unticking_clears_it(actor):
    task = services.task_create(by=actor, data={"subject": "Call", "queue": "sales"})
    services.task_update(task=task, by=actor, data={"done": True})
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    services.task_update(task=task, by=actor, data={"done": False})
    task.refresh_from_db()
    assert not task.done and task.done_at is None


# Leads ---------------------------------------------------------------------------------------


def test_lead_with_an_opportunity_cannot_be_disqualified_and_stays_unchanged(actor):
    # given a qualified lead that became an opportunity
    lead = LeadFactory(status=Lead.Status.QUALIFIED, campaign="Spring")
    OpportunityFactory(lead=lead)
    # when someone disqualifies it (and changes another field at the same time)
    with pytest.raises(DomainError) as exc:
        services.lead_update(lead=lead, by=actor, data={"status": "disqualified", "campaign": "X"})
    # then it is refused with a stable code, and nothing changed or was audited
    assert exc.value.code == "lead_has_opportunity"
    assert "status" in exc.value.fields
    lead.refresh_from_db()
    assert (lead.status, lead.campaign) == (Lead.Status.QUALIFIED, "Spring")
    assert not AuditEntry.objects.exists()


def test_lead_without_an_opportunity_can_be_disqualified_with_a_reason(actor):
    lead = LeadFactory()
    with pytest.raises(DomainError) as exc:
        services.lead_update(lead=lead, by=actor, data={"status": "disqualified"})
    assert exc.value.code == "reason_required" and "status_reason" in exc.value.fields
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN
    services.lead_update(
        lead=lead, by=actor, data={"status": "disqualified", "status_reason": "Lost"}
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.DISQUALIFIED and lead.status_reason == "Lost"


def test_lead_with_an_opportunity_cannot_be_deleted(actor):
    lead = LeadFactory()
    OpportunityFactory(lead=lead)
    with pytest.raises(DomainError) as exc:
        services.lead_delete(lead=lead, by=actor)
    assert exc.value.code == "record_protected"
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert not AuditEntry.objects.exists()


def test_lead_created_with_a_new_contact_creates_and_links_it(actor):
    result = services.lead_create(
        by=actor,
        data={"topic": "Demo"},
        new_contact={"email": "Anna@Example.com", "first_name": "Anna"},
    )
    assert result.contact_created is True
    assert result.lead.parent_contact == result.contact
    assert result.contact.email_normalized == "anna@example.com"
    # one audit entry for the contact and one for the lead
    assert sorted(AuditEntry.objects.values_list("record_type", flat=True)) == [
        "crm.contact",
        "crm.lead",
    ]


def test_second_lead_for_the_same_person_links_the_existing_contact(actor):
    first = services.lead_create(
        by=actor, data={"topic": "Webinar"}, new_contact={"email": "anna@example.com"}
    )
    second = services.lead_create(
        by=actor, data={"topic": "Trade fair"}, new_contact={"email": "  ANNA@example.COM "}
    )
    assert second.contact_created is False
    assert second.lead.parent_contact_id == first.contact.pk
    assert Contact.objects.count() == 1
    assert Lead.objects.filter(parent_contact=first.contact).count() == 2


def test_lead_takes_its_contacts_account(actor):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    lead = services.lead_create(by=actor, data={"topic": "X", "parent_contact_id": contact.pk}).lead
    assert lead.parent_account_id == account.pk


def test_lead_cannot_name_an_existing_contact_and_a_new_one(actor):
    contact = ContactFactory()
    with pytest.raises(ValidationError) as exc:
        services.lead_create(
            by=actor,
            data={"topic": "X", "parent_contact_id": contact.pk},
            new_contact={"email": "new@example.com"},
        )
    assert "contact" in exc.value.message_dict
    assert not Lead.objects.exists()
    assert Contact.objects.count() == 1


def test_failed_lead_does_not_leave_its_new_contact_behind(actor):
    # given a lead whose account does not exist, with a new contact
    with pytest.raises(ValidationError) as exc:
        services.lead_create(
            by=actor,
            data={"topic": "X", "parent_account_id": 424242},
            new_contact={"email": "new@example.com"},
        )
    # then neither the contact nor any audit entry was written
    assert "parent_account_id" in exc.value.message_dict
    assert not Contact.objects.exists()
    assert not Lead.objects.exists()
    assert not AuditEntry.objects.exists()


def test_new_contact_with_invalid_email_names_the_nested_field(actor):
    with pytest.raises(ValidationError) as exc:
        services.lead_create(by=actor, data={"topic": "X"}, new_contact={"email": "nope"})
    assert "contact.email" in exc.value.message_dict
    assert not Lead.objects.exists()
    assert not Contact.objects.exists()


# Opportunities -------------------------------------------------------------------------------


def test_opportunity_from_a_lead_takes_its_contact_and_account(actor):
    account = AccountFactory()
    lead = LeadFactory(parent_contact=ContactFactory(account=account))
    opportunity = services.opportunity_create(by=actor, data={"name": "Deal", "lead_id": lead.pk})
    assert (opportunity.contact_id, opportunity.account_id) == (lead.parent_contact_id, account.pk)


def test_disqualified_lead_cannot_become_an_opportunity(actor):
    lead = LeadFactory(status=Lead.Status.DISQUALIFIED)
    with pytest.raises(DomainError) as exc:
        services.opportunity_create(by=actor, data={"name": "Deal", "lead_id": lead.pk})
    assert exc.value.code == "lead_disqualified"
    assert not Opportunity.objects.exists()


def test_second_opportunity_for_a_lead_is_refused_as_duplicate(actor):
    lead = LeadFactory()
    OpportunityFactory(lead=lead)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(by=actor, data={"name": "Again", "lead_id": lead.pk})
    assert exc.value.error_dict["lead_id"][0].code == "duplicate"
    assert Opportunity.objects.count() == 1


def test_negative_opportunity_value_is_refused_by_field(actor):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(by=actor, data={"name": "Deal", "value": Decimal("-1")})
    assert "value" in exc.value.message_dict
    assert not Opportunity.objects.exists()


# Cascades: records removed or changed as a side effect keep their history -------------------


def test_deleting_a_contact_records_the_deletion_of_its_tasks(actor):
    contact = ContactFactory()
    task = TaskFactory(contact=contact, queue="sales")
    services.contact_delete(contact=contact, by=actor)
    assert not Task.objects.filter(pk=task.pk).exists()
    assert AuditEntry.objects.filter(
        record_type="crm.task", record_id=task.pk, action="delete", actor=actor
    ).exists()


def test_deleting_a_contact_records_the_change_on_its_leads(actor):
    contact = ContactFactory()
    lead = LeadFactory(parent_contact=contact)
    services.contact_delete(contact=contact, by=actor)
    lead.refresh_from_db()
    assert lead.parent_contact_id is None
    entries = AuditEntry.objects.filter(record_type="crm.lead", record_id=lead.pk, action="update")
    assert [e.changes.get("parent_contact") for e in entries] == [[contact.pk, None]]


# Bulk load -----------------------------------------------------------------------------------


def rows(n, *, start=0, leads_per_row=2):
    return [
        ContactWithLeads(
            contact={"email": f"bulk{start + i}@example.com", "first_name": f"B{i}"},
            lead_topics=[f"Topic {start + i}.{k}" for k in range(leads_per_row)],
        )
        for i in range(n)
    ]


def test_bulk_load_creates_contacts_with_their_leads_and_audits_each(actor):
    created = services.contacts_with_leads_create_bulk(by=actor, rows=rows(3))
    assert created == (3, 6)
    for contact in Contact.objects.all():
        assert contact.leads.count() == 2
        assert contact.origin_channel == "import"
        assert contact.owner == actor
    assert AuditEntry.objects.filter(action="create", actor=actor).count() == 9


def test_bulk_load_links_rows_to_contacts_that_exist_in_any_spelling(actor):
    # given contacts that already exist
    anna = ContactFactory(email="anna@example.com", account=AccountFactory())
    bob = ContactFactory(email="bob@example.com")
    # when a batch names them in other case, spacing and Unicode width, plus one new person
    batch = [
        ContactWithLeads({"email": " ANNA@Example.com "}, ["Webinar"]),
        ContactWithLeads({"email": fullwidth("bob") + "@example.com"}, ["Trade fair"]),
        ContactWithLeads({"email": "carl@example.com"}, ["Whitepaper"]),
        ContactWithLeads({"email": "Carl@example.com"}, ["Newsletter"]),
    ]
    created = services.contacts_with_leads_create_bulk(by=actor, rows=batch)
    # then only Carl is new, once, and every lead hangs on the right person
    assert created == (1, 4)
    assert Contact.objects.count() == 3
    assert list(anna.leads.values_list("topic", flat=True)) == ["Webinar"]
    assert anna.leads.get().parent_account_id == anna.account_id
    assert list(bob.leads.values_list("topic", flat=True)) == ["Trade fair"]
    carl = Contact.objects.get(email_normalized="carl@example.com")
    assert sorted(carl.leads.values_list("topic", flat=True)) == ["Newsletter", "Whitepaper"]
    # and the existing contacts were not audited as created again
    assert not AuditEntry.objects.filter(
        record_type="crm.contact", record_id__in=[anna.pk, bob.pk]
    ).exists()


def test_bulk_load_keeps_contacts_without_email_apart(actor):
    batch = [
        ContactWithLeads({"first_name": "No"}, ["A"]),
        ContactWithLeads({"first_name": "Mail"}, ["B"]),
    ]
    assert services.contacts_with_leads_create_bulk(by=actor, rows=batch) == (2, 2)
    assert all(c.leads.count() == 1 for c in Contact.objects.all())


def _bulk_queries(actor, batch):
    with CaptureQueriesContext(connection) as ctx:
        services.contacts_with_leads_create_bulk(by=actor, rows=batch)
    return len(ctx.captured_queries)


# SQLite caps one statement at 999 parameters, so Django splits a bulk INSERT of more than
# ~70 leads there; 30 rows (60 leads, 90 audit rows) still fit in one statement each.
@pytest.mark.parametrize("size", [30])
def test_bulk_load_query_count_does_not_grow_with_rows(actor, size, django_assert_num_queries):
    # given half of the people already exist, so both the "link" and the "create" paths run
    ContactFactory(email="bulk0@example.com")
    small = _bulk_queries(actor, rows(10, start=0))
    ContactFactory(email="bulk1000@example.com")
    # when a three-times larger batch is loaded, the number of statements stays the same
    with django_assert_num_queries(small):
        services.contacts_with_leads_create_bulk(by=actor, rows=rows(size, start=1000))
    assert Lead.objects.count() == 2 * (10 + size)


def test_bulk_load_query_count_is_fixed_for_200_rows_on_postgresql(
    actor, django_assert_num_queries
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's 999-parameter limit makes Django split large INSERTs")
    small = _bulk_queries(actor, rows(10, start=0))
    with django_assert_num_queries(small):
        services.contacts_with_leads_create_bulk(by=actor, rows=rows(200, start=1000))
    assert Contact.objects.count() == 210


def test_bulk_load_query_count_is_small_and_fixed(actor, django_assert_max_num_queries):
    # savepoint + lookup of existing emails + insert contacts + insert leads + insert audit + release
    with django_assert_max_num_queries(6):
        services.contacts_with_leads_create_bulk(by=actor, rows=rows(20))


# Updates that change nothing but the spelling of a value -------------------------------------


def test_same_value_written_differently_is_not_a_change(actor):
    opportunity = services.opportunity_create(
        by=actor, data={"name": "Deal", "value": Decimal("100.00")}
    )
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    services.opportunity_update(opportunity=opportunity, by=actor, data={"value": Decimal("100")})
    assert [e.action for e in entries_for(opportunity)] == ["create"]


def test_same_due_time_in_another_offset_is_not_a_change(actor):
    import datetime

    due = datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.UTC)
    task = services.task_create(by=actor, data={"subject": "Call", "queue": "sales", "due_at": due})
    task = Task.objects.get(pk=task.pk)
    same_instant = due.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    services.task_update(task=task, by=actor, data={"due_at": same_instant})
    assert [e.action for e in entries_for(task)] == ["create"]


# Concurrent creation of the same person ------------------------------------------------------


@pytest.fixture
def lookups_miss_once(monkeypatch):
    """Make the service's "does this email exist?" check miss, as when another request inserts
    the same person between our check and our insert: only the unique constraint catches it.
    (Creating a contact asks nothing before its insert; a lead with a new contact asks once.)"""
    manager = Contact.objects
    real_filter = manager.filter
    misses = {"left": 1}

    def filter_(*args, **kwargs):
        if "email_normalized" in kwargs and misses["left"] > 0:
            misses["left"] -= 1
            return manager.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(manager, "filter", filter_)
    return misses


def test_lead_for_a_person_created_concurrently_links_that_contact(actor, lookups_miss_once):
    # given the person was inserted by another request a moment ago
    anna = ContactFactory(email="anna@example.com")
    # when our lead for the same person reaches the insert
    result = services.lead_create(
        by=actor, data={"topic": "Webinar"}, new_contact={"email": "Anna@Example.com"}
    )
    # then it links to that contact instead of failing or duplicating it
    assert lookups_miss_once["left"] == 0
    assert result.contact_created is False
    assert result.lead.parent_contact_id == anna.pk
    assert Contact.objects.count() == 1
    assert not AuditEntry.objects.filter(record_type="crm.contact").exists()


def test_contact_created_concurrently_is_a_duplicate_not_a_crash(actor, lookups_miss_once):
    ContactFactory(email="anna@example.com")
    with pytest.raises(ValidationError) as exc:
        services.contact_create(by=actor, data={"email": "ANNA@example.com"})
    assert exc.value.error_dict["email"][0].code == "duplicate"
    assert Contact.objects.count() == 1
    assert not AuditEntry.objects.exists()
