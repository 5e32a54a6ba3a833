"""Bad input to the API: a 4xx in the one error shape, naming the field, and nothing written."""

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db


def _snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (Account, Contact, Lead, Opportunity, Task, AuditEntry)
    }


@pytest.fixture
def nothing_written():
    """Call it once before and once after the request: asserts no row was added or removed."""
    before = _snapshot()

    def check():
        assert _snapshot() == before

    return check


def assert_error(response, status, code, field=None, field_code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert field in error["fields"], error
        assert set(error["fields"][field]) == {"code", "message"}
        assert error["fields"][field]["message"]
        if field_code is not None:
            assert error["fields"][field]["code"] == field_code, error
    return error


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def patch(client, path, body):
    return client.patch(path, body, content_type="application/json")


# Create ---------------------------------------------------------------------------------------

CREATE_CASES = [
    # (path, body, field, field code or None)
    ("/api/v1/contacts", {"email": "a@example.com", "shoe_size": 42}, "shoe_size", "unknown_field"),
    ("/api/v1/leads", {"topic": "X", "priority": "high"}, "priority", "unknown_field"),
    (
        "/api/v1/leads",
        {"topic": "X", "contact": {"email": "a@example.com", "twitter": "@a"}},
        "contact.twitter",
        "unknown_field",
    ),
    ("/api/v1/accounts", {"name": "Acme", "employees": "many"}, "employees", None),
    ("/api/v1/accounts", {"name": "Acme", "employees": -5}, "employees", None),
    ("/api/v1/accounts", {"name": "Acme", "annual_revenue": "lots"}, "annual_revenue", None),
    ("/api/v1/leads", {"topic": "X", "sales_ready": "maybe"}, "sales_ready", None),
    ("/api/v1/leads", {"topic": "X", "status": "won"}, "status", None),
    ("/api/v1/contacts", {"email": "a@example.com", "first_name": 12345}, "first_name", None),
    ("/api/v1/contacts", {"email": "a@example.com", "role": "ceo"}, "role", None),
    ("/api/v1/contacts", {"email": "a@example.com", "account_id": "first"}, "account_id", None),
    ("/api/v1/leads", {"campaign": "Spring"}, "topic", "missing"),
    ("/api/v1/leads", {"topic": None}, "topic", None),
    ("/api/v1/accounts", {"industry": "Retail"}, "name", "missing"),
    ("/api/v1/tasks", {"queue": "sales"}, "subject", "missing"),
    ("/api/v1/opportunities", {"value": "10"}, "name", "missing"),
    (
        "/api/v1/contacts",
        {"email": "a@example.com", "first_name": "x" * 101},
        "first_name",
        "string_too_long",
    ),
    ("/api/v1/contacts", {"email": "a" * 250 + "@example.com"}, "email", "string_too_long"),
    ("/api/v1/leads", {"topic": "t" * 201}, "topic", "string_too_long"),
    (
        "/api/v1/leads",
        {"topic": "X", "contact": {"last_name": "y" * 101}},
        "contact.last_name",
        "string_too_long",
    ),
    ("/api/v1/opportunities", {"name": "Deal", "value": "-1"}, "value", None),
    (
        "/api/v1/opportunities",
        {"name": "Deal", "expected_close": "next spring"},
        "expected_close",
        None,
    ),
    ("/api/v1/tasks", {"subject": "Call", "queue": "nowhere"}, "queue", None),
]


@pytest.mark.parametrize(("path", "body", "field", "field_code"), CREATE_CASES)
def test_create_with_bad_input_names_the_field_and_writes_nothing(
    admin_api, nothing_written, path, body, field, field_code
):
    response = post(admin_api, path, body)
    assert_error(response, 422, "validation_error", field, field_code)
    nothing_written()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/contacts", {"email": "not-an-email"}, "email"),
        ("/api/v1/contacts", {"email": "anna@", "first_name": "Anna"}, "email"),
        ("/api/v1/contacts", {"email": "two@@example.com"}, "email"),
        ("/api/v1/leads", {"topic": "X", "contact": {"email": "not-an-email"}}, "contact.email"),
    ],
)
def test_invalid_email_is_refused_by_name(admin_api, nothing_written, path, body, field):
    response = post(admin_api, path, body)
    assert_error(response, 422, "validation_error", field)
    nothing_written()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/contacts", {"email": "a@example.com", "account_id": 987654}, "account_id"),
        ("/api/v1/contacts", {"email": "a@example.com", "owner_id": 987654}, "owner_id"),
        ("/api/v1/leads", {"topic": "X", "parent_contact_id": 987654}, "parent_contact_id"),
        ("/api/v1/leads", {"topic": "X", "parent_account_id": 987654}, "parent_account_id"),
        (
            "/api/v1/leads",
            {"topic": "X", "contact": {"email": "n@example.com", "account_id": 987654}},
            "contact.account_id",
        ),
        ("/api/v1/opportunities", {"name": "Deal", "lead_id": 987654}, "lead_id"),
        ("/api/v1/opportunities", {"name": "Deal", "account_id": 987654}, "account_id"),
        ("/api/v1/tasks", {"subject": "Call", "queue": "sales", "lead_id": 987654}, "lead_id"),
        ("/api/v1/tasks", {"subject": "Call", "assignee_id": 987654}, "assignee_id"),
    ],
)
def test_reference_to_a_missing_record_is_refused_by_name(
    admin_api, nothing_written, path, body, field
):
    response = post(admin_api, path, body)
    assert_error(response, 422, "validation_error", field, "does_not_exist")
    nothing_written()


def test_lead_with_a_new_contact_and_a_missing_account_writes_neither(admin_api, nothing_written):
    # the contact is valid, the lead is not: the contact must not be left behind
    response = post(
        admin_api,
        "/api/v1/leads",
        {
            "topic": "X",
            "parent_account_id": 987654,
            "contact": {"email": "fresh@example.com"},
        },
    )
    assert_error(response, 422, "validation_error", "parent_account_id")
    nothing_written()


def test_lead_naming_an_existing_and_a_new_contact_is_refused(admin_api):
    contact = ContactFactory()
    before = _snapshot()
    response = post(
        admin_api,
        "/api/v1/leads",
        {
            "topic": "X",
            "parent_contact_id": contact.pk,
            "contact": {"email": "new@example.com"},
        },
    )
    assert_error(response, 422, "validation_error", "contact")
    assert _snapshot() == before


def test_task_without_assignee_or_queue_is_refused(admin_api, nothing_written):
    response = post(admin_api, "/api/v1/tasks", {"subject": "Nobody's job"})
    assert_error(response, 422, "validation_error", "assignee_id")
    nothing_written()


# Duplicates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["anna@example.com", "  ANNA@Example.COM "])
def test_duplicate_email_is_a_conflict_naming_email(admin_api, variant):
    ContactFactory(email="anna@example.com")
    before = _snapshot()
    response = post(admin_api, "/api/v1/contacts", {"email": variant, "first_name": "Copy"})
    assert_error(response, 409, "duplicate", "email", "duplicate")
    assert _snapshot() == before


def test_changing_email_to_another_contacts_is_a_conflict(admin_api):
    ContactFactory(email="anna@example.com")
    bob = ContactFactory(email="bob@example.com")
    before = _snapshot()
    response = patch(admin_api, f"/api/v1/contacts/{bob.pk}", {"email": "Anna@example.com"})
    assert_error(response, 409, "duplicate", "email")
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"
    assert _snapshot() == before


def test_lead_with_the_email_of_an_existing_contact_links_it(admin_api):
    # given a contact, when two leads are posted with its email in other spellings
    anna = ContactFactory(email="anna@example.com")
    for topic, email in (("Webinar", "ANNA@example.com"), ("Fair", " anna@EXAMPLE.com ")):
        response = post(admin_api, "/api/v1/leads", {"topic": topic, "contact": {"email": email}})
        assert response.status_code == 201, response.content
        assert response.json()["contact_created"] is False
        assert response.json()["parent_contact_id"] == anna.pk
    # then no duplicate contact exists
    assert Contact.objects.count() == 1
    assert anna.leads.count() == 2


def test_second_opportunity_for_a_lead_is_a_conflict(admin_api):
    lead = LeadFactory()
    OpportunityFactory(lead=lead)
    before = _snapshot()
    response = post(admin_api, "/api/v1/opportunities", {"name": "Again", "lead_id": lead.pk})
    assert_error(response, 409, "duplicate", "lead_id")
    assert _snapshot() == before


def test_disqualified_lead_cannot_become_an_opportunity(admin_api):
    lead = LeadFactory(status="disqualified")
    response = post(admin_api, "/api/v1/opportunities", {"name": "Deal", "lead_id": lead.pk})
    assert_error(response, 409, "lead_disqualified", "lead_id")
    assert not Opportunity.objects.exists()


# Patch ----------------------------------------------------------------------------------------

PATCH_CASES = [
    # (resource, body, field, field code or None)
    ("contacts", {"shoe_size": 42}, "shoe_size", "unknown_field"),
    ("contacts", {"email_normalized": "x@example.com"}, "email_normalized", "unknown_field"),
    ("contacts", {"id": 5}, "id", "unknown_field"),
    ("contacts", {"first_name": "x" * 101}, "first_name", "string_too_long"),
    ("contacts", {"email": "not-an-email"}, "email", None),
    ("contacts", {"marketing_only": "sometimes"}, "marketing_only", None),
    ("contacts", {"account_id": 987654}, "account_id", "does_not_exist"),
    ("leads", {"priority": "high"}, "priority", "unknown_field"),
    ("leads", {"contact": {"email": "a@example.com"}}, "contact", "unknown_field"),
    ("leads", {"sales_ready": "maybe"}, "sales_ready", None),
    ("leads", {"topic": None}, "topic", None),
    ("leads", {"topic": ""}, "topic", None),
    ("leads", {"status": "won"}, "status", None),
    ("leads", {"parent_contact_id": 987654}, "parent_contact_id", "does_not_exist"),
    ("accounts", {"employees": "many"}, "employees", None),
    ("opportunities", {"value": None}, "value", None),
    ("opportunities", {"lead_id": 1}, "lead_id", "unknown_field"),
]

PATCH_TARGETS = {
    "contacts": lambda: ContactFactory(email="kept@example.com", first_name="Kept"),
    "leads": lambda: LeadFactory(topic="Kept"),
    "accounts": lambda: AccountFactory(name="Kept", employees=10),
    "opportunities": lambda: OpportunityFactory(name="Kept", value=100),
}


@pytest.mark.parametrize(("resource", "body", "field", "field_code"), PATCH_CASES)
def test_patch_with_bad_input_names_the_field_and_changes_nothing(
    admin_api, resource, body, field, field_code
):
    record = PATCH_TARGETS[resource]()
    before = _snapshot()
    values_before = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    response = patch(admin_api, f"/api/v1/{resource}/{record.pk}", body)
    assert_error(response, 422, "validation_error", field, field_code)
    record.refresh_from_db()
    assert {
        f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields
    } == values_before
    assert _snapshot() == before


def test_disqualifying_a_lead_with_an_opportunity_is_refused(admin_api):
    lead = LeadFactory(status="qualified")
    OpportunityFactory(lead=lead)
    before = _snapshot()
    response = patch(admin_api, f"/api/v1/leads/{lead.pk}", {"status": "disqualified"})
    assert_error(response, 409, "lead_has_opportunity", "status", "lead_has_opportunity")
    lead.refresh_from_db()
    assert lead.status == "qualified"
    assert _snapshot() == before


def test_deleting_a_lead_with_an_opportunity_is_refused(admin_api):
    lead = LeadFactory()
    OpportunityFactory(lead=lead)
    before = _snapshot()
    response = admin_api.delete(f"/api/v1/leads/{lead.pk}")
    assert_error(response, 409, "record_protected")
    assert _snapshot() == before


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
@pytest.mark.parametrize("resource", ["accounts", "contacts", "leads", "opportunities", "tasks"])
def test_missing_record_is_404_in_error_shape(admin_api, nothing_written, resource, method):
    if method == "patch":
        response = patch(admin_api, f"/api/v1/{resource}/987654", {})
    else:
        response = getattr(admin_api, method)(f"/api/v1/{resource}/987654")
    assert_error(response, 404, "not_found")
    nothing_written()


# Malformed requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ['{"email": "a@example.com"', "not json at all", "", "[1, 2]", '"x"']
)
def test_malformed_json_body_is_a_4xx_in_error_shape(admin_api, nothing_written, body):
    response = admin_api.post("/api/v1/contacts", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] in ("bad_request", "validation_error")
    nothing_written()


def test_malformed_json_patch_changes_nothing(admin_api):
    contact = ContactFactory(first_name="Kept")
    response = admin_api.patch(
        f"/api/v1/contacts/{contact.pk}", "{first_name: 'x'}", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    contact.refresh_from_db()
    assert contact.first_name == "Kept"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/contacts?sort=password", "sort"),
        ("/api/v1/contacts?sort=-shoe_size", "sort"),
        ("/api/v1/leads?sort=parent_contact__email_normalized", "sort"),
        ("/api/v1/leads?status=won", "status"),
        ("/api/v1/leads?sales_ready=maybe", "sales_ready"),
        ("/api/v1/leads?parent_contact=abc", "parent_contact"),
        ("/api/v1/leads?created_after=yesterday", "created_after"),
        ("/api/v1/contacts?role=ceo", "role"),
        ("/api/v1/opportunities?min_value=lots", "min_value"),
        ("/api/v1/accounts?min_employees=ten", "min_employees"),
        ("/api/v1/tasks?due_before=2026-13-45", "due_before"),
        ("/api/v1/contacts?page=0", "page"),
        ("/api/v1/contacts?page=abc", "page"),
        ("/api/v1/contacts?page_size=100000", "page_size"),
    ],
)
def test_bad_list_parameter_is_refused_by_name(admin_api, path, field):
    response = admin_api.get(path)
    assert_error(response, 422, "validation_error", field)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing-here", "/api/v1/contacts/1/2/3", "/api/v2/contacts", "/api/v1/contacts/"],
)
def test_unknown_api_path_is_404_json(admin_api, path):
    response = admin_api.get(path)
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_api_path_is_404_json_even_without_a_token(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_record_id_that_is_not_a_number_is_refused_by_name(admin_api):
    assert_error(admin_api.get("/api/v1/contacts/abc"), 422, "validation_error", "record_id")


def test_unsupported_method_is_405_in_error_shape(admin_api):
    contact = ContactFactory()
    before = _snapshot()
    response = admin_api.put(
        f"/api/v1/contacts/{contact.pk}", {"first_name": "X"}, content_type="application/json"
    )
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert _snapshot() == before
