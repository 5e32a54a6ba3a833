"""What each role may see and change through the API: allowed (2xx) and forbidden (403).

The expectations are written out here, not imported from ``users.roles``, so that a wrong
permission matrix (or a wrong migration of it) fails these tests.
"""

import json

import pytest
from django.test import Client

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.testing.expectations import ALLOWED
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
)
from leadcycle.users.models import ApiToken
from leadcycle.users.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


OPERATIONS = {"list": "v", "get": "v", "create": "a", "patch": "c", "delete": "d"}

MODELS = {
    "accounts": Account,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "tasks": Task,
}
EXISTING = {
    "accounts": lambda: AccountFactory(name="Existing account"),
    "contacts": lambda: ContactFactory(email="existing@example.com", job_title="Analyst"),
    "leads": lambda: LeadFactory(topic="Existing lead"),
    "opportunities": lambda: OpportunityFactory(name="Existing deal"),
    "tasks": lambda: TaskFactory(subject="Existing task"),
}
NEW = {
    "accounts": {"name": "New account"},
    "contacts": {"email": "new.person@example.com", "first_name": "New"},
    "leads": {"topic": "New lead"},
    "opportunities": {"name": "New deal", "value": "250.00"},
    "tasks": {"subject": "New task", "queue": "telemarketing"},
}
CHANGE = {
    "accounts": ("name", "Renamed account"),
    "contacts": ("job_title", "CEO"),
    "leads": ("topic", "Renamed lead"),
    "opportunities": ("stage", "develop"),
    "tasks": ("subject", "Renamed task"),
}


def _is_allowed(role, resource, operation):
    return OPERATIONS[operation] in ALLOWED[role][resource]


def test_the_expectations_cover_every_role():
    from leadcycle.users.roles import ROLES

    assert set(ALLOWED) == set(ROLES)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("resource", MODELS)
@pytest.mark.parametrize("role", ALLOWED)
def test_role_matrix(api_client, role, resource, operation):
    # given a record of this type and a client with this role's token
    client = api_client(role)
    model = MODELS[resource]
    record = EXISTING[resource]()
    field, new_value = CHANGE[resource]
    before_value = getattr(record, field)
    count_before = model.objects.count()
    audit_before = AuditEntry.objects.count()

    # when the role tries the operation
    if operation == "list":
        response = client.get(f"/api/v1/{resource}")
    elif operation == "get":
        response = client.get(f"/api/v1/{resource}/{record.pk}")
    elif operation == "create":
        response = client.post(
            f"/api/v1/{resource}", NEW[resource], content_type="application/json"
        )
    elif operation == "patch":
        response = client.patch(
            f"/api/v1/{resource}/{record.pk}", {field: new_value}, content_type="application/json"
        )
    else:
        response = client.delete(f"/api/v1/{resource}/{record.pk}")

    # then it is allowed, with the effect a user would see, or refused with nothing changed
    if _is_allowed(role, resource, operation):
        assert 200 <= response.status_code < 300, response.content
        if operation == "list":
            assert record.pk in [item["id"] for item in response.json()["items"]]
        elif operation == "get":
            assert response.json()["id"] == record.pk
        elif operation == "create":
            assert response.status_code == 201
            assert model.objects.count() == count_before + 1
            assert model.objects.filter(pk=response.json()["id"]).exists()
        elif operation == "patch":
            record.refresh_from_db()
            assert getattr(record, field) == new_value
        else:
            assert response.status_code == 204
            assert not model.objects.filter(pk=record.pk).exists()
    else:
        assert response.status_code == 403, response.content
        body = response.json()
        assert body["error"]["code"] == "forbidden"
        assert body["error"]["message"]
        assert model.objects.count() == count_before
        record.refresh_from_db()
        assert getattr(record, field) == before_value
        assert AuditEntry.objects.count() == audit_before


def test_lead_with_a_new_contact_needs_permission_to_add_contacts_too(api_client):
    # a telemarketer may neither add leads nor contacts
    response = api_client("telemarketer").post(
        "/api/v1/leads",
        {"topic": "X", "contact": {"email": "x@example.com"}},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Lead.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("role", ["marketer", "seller", "telemarketer"])
def test_only_the_administrator_deletes_accounts(api_client, role):
    account = AccountFactory()
    assert api_client(role).delete(f"/api/v1/accounts/{account.pk}").status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()
    assert api_client("administrator").delete(f"/api/v1/accounts/{account.pk}").status_code == 204
    assert not Account.objects.filter(pk=account.pk).exists()


def test_history_is_visible_only_to_roles_that_see_the_record(api_client):
    opportunity = OpportunityFactory()
    assert (
        api_client("telemarketer")
        .get(f"/api/v1/opportunities/{opportunity.pk}/history")
        .status_code
        == 403
    )
    assert (
        api_client("seller").get(f"/api/v1/opportunities/{opportunity.pk}/history").status_code
        == 200
    )


def test_me_tells_the_caller_its_role_and_permissions(api_client):
    response = api_client("telemarketer").get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "telemarketer-user"
    assert body["roles"] == ["telemarketer"]
    assert "opportunity" not in body["permissions"]
    assert body["permissions"]["lead"] == ["change", "view"]


# Authentication ------------------------------------------------------------------------------


def _assert_not_authenticated(response):
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/contacts"),
        ("get", "/api/v1/leads/1"),
        ("post", "/api/v1/accounts"),
        ("delete", "/api/v1/tasks/1"),
        ("get", "/api/v1/me"),
    ],
)
def test_unauthenticated_requests_are_refused(method, path):
    response = getattr(Client(), method)(path)
    _assert_not_authenticated(response)


@pytest.mark.parametrize("header", ["Bearer lc_not-a-real-token", "Bearer ", "Token abc", "lc_abc"])
def test_unknown_or_malformed_tokens_are_refused(header):
    _assert_not_authenticated(Client(headers={"Authorization": header}).get("/api/v1/contacts"))


def test_revoked_token_is_refused(role_user):
    # given a working token
    issued = api_token_create(user=role_user("administrator"), name="integration")
    client = Client(headers={"Authorization": f"Bearer {issued.raw}"})
    assert client.get("/api/v1/contacts").status_code == 200
    # when it is revoked, then it no longer works, for reads or writes
    api_token_revoke(token=issued.token)
    _assert_not_authenticated(client.get("/api/v1/contacts"))
    _assert_not_authenticated(
        client.post("/api/v1/accounts", {"name": "X"}, content_type="application/json")
    )
    assert not Account.objects.exists()


def test_token_of_a_deactivated_user_is_refused(role_user):
    user = role_user("seller")
    raw = api_token_create(user=user, name="t").raw
    user.is_active = False
    user.save()
    _assert_not_authenticated(
        Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/leads")
    )


def test_tokens_are_stored_hashed_and_remember_when_they_were_used(role_user):
    issued = api_token_create(user=role_user("seller"), name="t")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.raw.startswith("lc_")
    assert stored.digest != issued.raw and issued.raw not in stored.digest
    assert stored.last_used_at is None
    Client(headers={"Authorization": f"Bearer {issued.raw}"}).get("/api/v1/leads")
    stored.refresh_from_db()
    assert stored.last_used_at is not None


# Session auth and CSRF -----------------------------------------------------------------------


def test_session_post_without_csrf_token_is_refused_and_writes_nothing(role_user):
    # given a logged-in browser session that enforces CSRF
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("administrator"))
    # when it posts to the API without the CSRF token
    response = client.post("/api/v1/accounts", {"name": "Forged"}, content_type="application/json")
    # then it is refused in the API's error shape and nothing is written
    assert response.status_code in (401, 403), response.content
    assert response.json()["error"]["code"] in ("forbidden", "not_authenticated")
    assert not Account.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_session_patch_and_delete_without_csrf_token_are_refused(role_user, method):
    account = AccountFactory(name="Kept")
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("administrator"))
    if method == "patch":
        response = client.patch(
            f"/api/v1/accounts/{account.pk}", {"name": "Changed"}, content_type="application/json"
        )
    else:
        response = client.delete(f"/api/v1/accounts/{account.pk}")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    account.refresh_from_db()
    assert account.name == "Kept"


def test_session_post_with_csrf_token_is_accepted(role_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("administrator"))
    client.get("/tokens/")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/accounts",
        json.dumps({"name": "Real"}),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content
    assert Account.objects.filter(name="Real").exists()


def test_session_get_needs_no_csrf_token(role_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("marketer"))
    assert client.get("/api/v1/contacts").status_code == 200


def test_bearer_token_requests_need_no_csrf_token(api_client, role_user):
    raw = api_token_create(user=role_user("seller"), name="t").raw
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = client.post(
        "/api/v1/accounts", {"name": "Via token"}, content_type="application/json"
    )
    assert response.status_code == 201
