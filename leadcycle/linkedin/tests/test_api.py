"""The staff API of the LinkedIn connector: settings (secrets write-only), mappings CRUD, Sync
now, the sync log; roles and bad input in the API's error shape."""

import json

import pytest

from leadcycle.linkedin.models import Connector, FieldMapping, SyncRun
from leadcycle.linkedin.tests.conftest import SECRET, TOKEN, lead_response, now_ms

pytestmark = pytest.mark.django_db

ROLES = ["marketer", "telemarketer", "seller", "sales_manager", "administrator"]
# Written out, not imported from users.roles: view/change connector, view sync runs.
MAY_VIEW = {"marketer", "administrator"}
MAY_CHANGE = {"marketer", "administrator"}


def patch(client, url, payload):
    return client.patch(url, json.dumps(payload), content_type="application/json")


def post(client, url, payload=None):
    return client.post(url, json.dumps(payload or {}), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
def test_roles(api_client, connector, role):
    client = api_client(role)
    view = 200 if role in MAY_VIEW else 403
    change = role in MAY_CHANGE
    assert client.get("/api/v1/linkedin/connector").status_code == view
    assert client.get("/api/v1/linkedin/mappings").status_code == view
    assert client.get("/api/v1/linkedin/sync-runs").status_code == view
    assert client.get("/api/v1/linkedin/responses").status_code == view
    changed = patch(client, "/api/v1/linkedin/connector", {"campaign": "By " + role})
    assert changed.status_code == (200 if change else 403)
    created = post(
        client, "/api/v1/linkedin/mappings", {"question_id": "55", "maps_to": "contact.phone"}
    )
    assert created.status_code == (201 if change else 403)
    if not change:
        assert changed.json()["error"]["code"] == "forbidden"
        assert Connector.objects.get().campaign == connector.campaign


def test_anonymous_is_401(client, connector):
    response = client.get("/api/v1/linkedin/connector")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_connector_shows_its_secrets_masked(api_client, connector):
    body = api_client("marketer").get("/api/v1/linkedin/connector").json()

    assert TOKEN not in json.dumps(body) and SECRET not in json.dumps(body)
    assert body["access_token_set"] and body["client_secret_set"]
    assert body["access_token_masked"].endswith(TOKEN[-4:])
    assert body["webhook_path"] == "/api/v1/public/linkedin/webhook"
    assert body["sponsored_accounts"] == [connector.sponsored_accounts]


def test_patch_changes_only_what_is_given_and_secrets_are_write_only(api_client, connector):
    client = api_client("marketer")

    response = patch(
        client,
        "/api/v1/linkedin/connector",
        {"mode": "match_on_mapped_fields", "access_token": "new-token-value-0000", "campaign": ""},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "match_on_mapped_fields" and body["campaign"] == ""
    assert "new-token-value-0000" not in response.content.decode()
    connector.refresh_from_db()
    assert connector.access_token == "new-token-value-0000"
    assert connector.client_secret == SECRET
    assert connector.lead_topic == "LinkedIn: Analytics Suite"


def test_a_new_api_address_without_a_token_forgets_the_token(api_client, connector):
    response = patch(
        api_client("administrator"),
        "/api/v1/linkedin/connector",
        {"api_base_url": "https://attacker.example", "enabled": False},
    )
    assert response.status_code == 200
    assert response.json()["access_token_set"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sponsored_accounts": ["123"]}, "sponsored_accounts"),
        ({"linkedin_version": "2026-10"}, "linkedin_version"),
        ({"api_base_url": "ftp://example.com"}, "api_base_url"),
        ({"mode": "sometimes"}, "mode"),
        ({"lead_strategy_id": 999999}, "lead_strategy"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_settings_are_422_naming_the_field(api_client, connector, payload, field):
    response = patch(api_client("marketer"), "/api/v1/linkedin/connector", payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"]


def test_a_contact_strategy_cannot_be_the_lead_strategy(api_client, connector):
    response = patch(
        api_client("marketer"),
        "/api/v1/linkedin/connector",
        {"lead_strategy_id": connector.contact_strategy_id},
    )
    assert response.status_code == 422
    assert "lead_strategy" in response.json()["error"]["fields"]


def test_mappings_crud(api_client, connector):
    client = api_client("marketer")

    created = post(
        client,
        "/api/v1/linkedin/mappings",
        {"form_urn": "urn:li:leadGenForm:42", "question_id": 777, "maps_to": "contact.phone"},
    )
    assert created.status_code == 201
    mapping = created.json()
    assert mapping["question_id"] == "777" and mapping["form_urn"] == "urn:li:leadGenForm:42"

    changed = patch(
        client, f"/api/v1/linkedin/mappings/{mapping['id']}", {"maps_to": "contact.country"}
    )
    assert changed.status_code == 200 and changed.json()["maps_to"] == "contact.country"

    listed = client.get("/api/v1/linkedin/mappings").json()
    assert mapping["id"] in [m["id"] for m in listed]

    duplicate = post(
        client,
        "/api/v1/linkedin/mappings",
        {"form_urn": "42", "question_id": "777", "maps_to": "contact.phone"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "duplicate"

    unknown = post(
        client, "/api/v1/linkedin/mappings", {"question_id": "8", "maps_to": "contact.salary"}
    )
    assert unknown.status_code == 422 and "maps_to" in unknown.json()["error"]["fields"]
    not_a_number = post(
        client, "/api/v1/linkedin/mappings", {"question_id": "email", "maps_to": "contact.email"}
    )
    assert not_a_number.status_code == 422

    assert client.delete(f"/api/v1/linkedin/mappings/{mapping['id']}").status_code == 204
    assert not FieldMapping.objects.filter(pk=mapping["id"]).exists()
    assert client.delete(f"/api/v1/linkedin/mappings/{mapping['id']}").status_code == 404


def test_sync_now_queues_a_run_and_the_log_lists_it(
    api_client, connector, fake_linkedin, django_capture_on_commit_callbacks
):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    client = api_client("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/api/v1/linkedin/sync")

    assert response.status_code == 202
    queued = response.json()
    assert queued["trigger"] == "manual" and queued["status"] == "queued"
    run = client.get(f"/api/v1/linkedin/sync-runs/{queued['id']}").json()
    assert (run["status"], run["fetched"], run["created"]) == ("succeeded", 1, 1)
    log = client.get("/api/v1/linkedin/sync-runs", {"page_size": 10}).json()
    assert log["count"] == 1 and log["items"][0]["id"] == queued["id"]
    responses = client.get("/api/v1/linkedin/responses").json()
    assert responses["items"][0]["response_id"] == "r-1"
    assert responses["items"][0]["outcome"] == "created"


def test_sync_now_on_a_disabled_connector_is_409(api_client, connector):
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    response = post(api_client("marketer"), "/api/v1/linkedin/sync")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "connector_disabled"
    assert SyncRun.objects.count() == 0
