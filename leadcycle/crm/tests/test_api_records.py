"""The API's record endpoints: what a client gets back, and what the database then holds."""

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def patch(client, path, body):
    return client.patch(path, body, content_type="application/json")


def test_created_contact_is_owned_and_audited_as_the_token_user(api_client):
    response = post(
        api_client("seller"),
        "/api/v1/contacts",
        {"email": " Anna.Berg@Example.COM ", "first_name": "Anna", "role": "decision_maker"},
    )
    assert response.status_code == 201
    body = response.json()
    contact = Contact.objects.get(pk=body["id"])
    assert body["email"] == "Anna.Berg@Example.COM"
    assert body["email_normalized"] == "anna.berg@example.com"
    assert body["origin_channel"] == "api"
    assert contact.owner.username == "seller-user"
    entry = AuditEntry.objects.get(record_type="crm.contact", record_id=contact.pk)
    assert entry.actor.username == "seller-user" and entry.action == "create"


def test_explicit_owner_is_kept(admin_api):
    seller = UserFactory(username="sam")
    body = post(admin_api, "/api/v1/accounts", {"name": "Acme", "owner_id": seller.pk}).json()
    assert body["owner_id"] == seller.pk


def test_get_returns_the_record(admin_api):
    account = AccountFactory(name="Contoso", web_domain="contoso.com", employees=40)
    body = admin_api.get(f"/api/v1/accounts/{account.pk}").json()
    assert (body["name"], body["web_domain"], body["employees"]) == ("Contoso", "contoso.com", 40)


def test_patch_changes_only_what_was_sent(admin_api):
    contact = ContactFactory(first_name="Anna", last_name="Berg", job_title="CTO", phone="+46 1")
    response = patch(admin_api, f"/api/v1/contacts/{contact.pk}", {"job_title": "CEO"})
    assert response.status_code == 200
    assert response.json()["job_title"] == "CEO"
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.job_title, contact.phone) == (
        "Anna",
        "Berg",
        "CEO",
        "+46 1",
    )
    [entry] = AuditEntry.objects.filter(action="update")
    assert entry.changes == {"job_title": ["CTO", "CEO"]}


def test_patch_with_null_clears_an_optional_text(admin_api):
    contact = ContactFactory(job_title="CTO")
    response = patch(
        admin_api, f"/api/v1/contacts/{contact.pk}", {"job_title": None, "account_id": None}
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.job_title == ""


def test_empty_patch_changes_and_records_nothing(admin_api):
    contact = ContactFactory(job_title="CTO")
    response = patch(admin_api, f"/api/v1/contacts/{contact.pk}", {})
    assert response.status_code == 200
    assert not AuditEntry.objects.exists()


def test_delete_removes_the_record_and_keeps_its_history(admin_api):
    created = post(admin_api, "/api/v1/leads", {"topic": "Gone soon"}).json()
    response = admin_api.delete(f"/api/v1/leads/{created['id']}")
    assert response.status_code == 204
    assert not Lead.objects.filter(pk=created["id"]).exists()
    actions = list(
        AuditEntry.objects.filter(record_type="crm.lead", record_id=created["id"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "delete"]


def test_deleting_an_account_keeps_its_contacts_unlinked(admin_api):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    assert admin_api.delete(f"/api/v1/accounts/{account.pk}").status_code == 204
    contact.refresh_from_db()
    assert contact.account_id is None


def test_lead_linked_to_an_existing_contact_takes_its_account(admin_api):
    contact = ContactFactory(account=AccountFactory())
    body = post(
        admin_api, "/api/v1/leads", {"topic": "Webinar", "parent_contact_id": contact.pk}
    ).json()
    assert body["parent_contact_id"] == contact.pk
    assert body["parent_account_id"] == contact.account_id
    assert body["contact_created"] is False


def test_lead_with_new_contact_then_same_email_differently_cased(admin_api):
    first = post(
        admin_api,
        "/api/v1/leads",
        {"topic": "Webinar", "contact": {"email": "erik@fabrikam.com", "first_name": "Erik"}},
    )
    second = post(
        admin_api,
        "/api/v1/leads",
        {"topic": "Fair", "contact": {"email": "  ERIK@Fabrikam.com", "first_name": "E."}},
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["contact_created"] is True and second.json()["contact_created"] is False
    assert first.json()["parent_contact_id"] == second.json()["parent_contact_id"]
    contact = Contact.objects.get()
    assert contact.first_name == "Erik"  # the existing contact is linked, not overwritten
    assert contact.leads.count() == 2


def test_orphan_lead_without_any_contact(admin_api):
    body = post(admin_api, "/api/v1/leads", {"topic": "LinkedIn lead"}).json()
    assert body["parent_contact_id"] is None and body["parent_account_id"] is None
    assert not Contact.objects.exists()


def test_opportunity_from_a_lead_takes_the_leads_contact_and_account(admin_api):
    account = AccountFactory()
    lead = LeadFactory(parent_contact=ContactFactory(account=account), parent_account=account)
    body = post(admin_api, "/api/v1/opportunities", {"name": "Deal", "lead_id": lead.pk}).json()
    assert body["contact_id"] == lead.parent_contact_id
    assert body["account_id"] == account.pk


def test_opportunity_keeps_an_explicitly_given_account(admin_api):
    lead = LeadFactory(parent_contact=ContactFactory(account=AccountFactory()))
    other = AccountFactory()
    body = post(
        admin_api,
        "/api/v1/opportunities",
        {"name": "Deal", "lead_id": lead.pk, "account_id": other.pk},
    ).json()
    assert body["account_id"] == other.pk


def test_ticking_a_task_done_stamps_the_time(api_client):
    client = api_client("telemarketer")
    task = post(client, "/api/v1/tasks", {"subject": "Call", "queue": "telemarketing"}).json()
    done = patch(client, f"/api/v1/tasks/{task['id']}", {"done": True}).json()
    assert done["done"] is True and done["done_at"] is not None
    undone = patch(client, f"/api/v1/tasks/{task['id']}", {"done": False}).json()
    assert undone["done_at"] is None
    assert Task.objects.get().done is False


def test_task_cannot_lose_its_last_worker(admin_api):
    task = post(admin_api, "/api/v1/tasks", {"subject": "Call", "queue": "sales"}).json()
    response = patch(admin_api, f"/api/v1/tasks/{task['id']}", {"queue": ""})
    assert response.status_code == 422
    assert "assignee_id" in response.json()["error"]["fields"]
    assert Task.objects.get().queue == "sales"


def test_decimal_values_round_trip(admin_api):
    body = post(admin_api, "/api/v1/opportunities", {"name": "Deal", "value": "1234.56"}).json()
    assert str(Opportunity.objects.get(pk=body["id"]).value) == "1234.56"
    revenue = post(admin_api, "/api/v1/accounts", {"name": "A", "annual_revenue": "99.5"}).json()
    assert str(Account.objects.get(pk=revenue["id"]).annual_revenue) == "99.50"


def test_openapi_schema_is_served_to_token_holders_only(client, admin_api):
    assert client.get("/api/v1/openapi.json").status_code in (302, 401)
    schema = admin_api.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/contacts", "/api/v1/leads", "/api/v1/leads/{record_id}/history"):
        assert path in paths
