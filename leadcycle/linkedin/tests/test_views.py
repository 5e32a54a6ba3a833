"""The LinkedIn pages: settings with masked secrets, mappings, Sync now, the sync log, the
responses received, and who may see and change them.

Roles, written out: marketers view and change the connector and view the log; administrators
too; telemarketers, sellers and sales managers see none of it.
"""

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.linkedin.models import Connector, FieldMapping, SyncRun
from leadcycle.linkedin.services import linkedin_sync
from leadcycle.linkedin.tests.conftest import ACCOUNT, SECRET, TOKEN, lead_response, now_ms

pytestmark = pytest.mark.django_db

PAGES = ["/linkedin/", "/linkedin/runs/", "/linkedin/responses/"]
CAN_VIEW = {"marketer": True, "administrator": True}
ROLES = ["marketer", "telemarketer", "seller", "sales_manager", "administrator"]


def settings_post(client, connector, **changes):
    data = {
        "name": connector.name,
        "enabled": "on" if connector.enabled else "",
        "api_base_url": connector.api_base_url,
        "sponsored_accounts": connector.sponsored_accounts,
        "linkedin_version": connector.linkedin_version,
        "mode": connector.mode,
        "lead_strategy": connector.lead_strategy_id or "",
        "contact_creation_enabled": "on" if connector.contact_creation_enabled else "",
        "contact_strategy": connector.contact_strategy_id or "",
        "lead_topic": connector.lead_topic,
        "campaign": connector.campaign,
        **changes,
    }
    return client.post("/linkedin/", {k: v for k, v in data.items() if v != ""})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_who_may_see_the_pages(ui_client, role, path):
    response = ui_client(role).get(path)
    assert response.status_code == (200 if CAN_VIEW.get(role) else 403)


@pytest.mark.parametrize("role", ["telemarketer", "seller", "sales_manager"])
def test_other_roles_may_not_change_or_sync(ui_client, connector, role):
    client = ui_client(role)
    assert settings_post(client, connector, name="Hijacked").status_code == 403
    assert client.post("/linkedin/sync/").status_code == 403
    assert client.post("/linkedin/mappings/", {"question_id": "1"}).status_code == 403
    mapping = FieldMapping.objects.first()
    assert client.post(f"/linkedin/mappings/{mapping.pk}/delete/").status_code == 403
    assert Connector.objects.get().name != "Hijacked"
    assert SyncRun.objects.count() == 0


def test_secrets_are_never_shown(ui_client, connector):
    html = ui_client("marketer").get("/linkedin/").content.decode()
    assert TOKEN not in html and SECRET not in html
    assert "••••" in html
    assert TOKEN[-4:] in html  # the last four characters say which token is stored


def test_a_marketer_saves_the_strategy_and_blank_secrets_are_kept(ui_client, connector):
    response = settings_post(
        ui_client("marketer"),
        connector,
        mode="match_on_mapped_fields",
        contact_creation_enabled="",
        campaign="Autumn",
    )

    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.mode == "match_on_mapped_fields"
    assert connector.contact_creation_enabled is False
    assert connector.campaign == "Autumn"
    assert (connector.access_token, connector.client_secret) == (TOKEN, SECRET)
    entry = AuditEntry.objects.get(record_type="linkedin.connector")
    assert TOKEN not in str(entry.changes) and "campaign" in entry.changes


def test_a_new_secret_replaces_the_stored_one(ui_client, connector):
    settings_post(ui_client("marketer"), connector, client_secret="rotated-secret")
    connector.refresh_from_db()
    assert connector.client_secret == "rotated-secret"
    entry = AuditEntry.objects.get(record_type="linkedin.connector")
    assert "rotated-secret" not in str(entry.changes) and "client_secret" in entry.changes


def test_a_new_api_address_forgets_the_token(ui_client, connector):
    response = settings_post(
        ui_client("marketer"), connector, enabled="", api_base_url="https://elsewhere.example"
    )
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.api_base_url == "https://elsewhere.example"
    assert connector.access_token == ""


def test_errors_are_shown_next_to_the_fields(ui_client, connector):
    response = settings_post(
        ui_client("marketer"), connector, sponsored_accounts="123", linkedin_version="May"
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Not a sponsored account URN" in html and "YYYYMM" in html
    assert Connector.objects.get().linkedin_version == connector.linkedin_version


def test_enabling_needs_a_token_and_an_account(ui_client, db):
    connector_page = ui_client("marketer").get("/linkedin/")
    assert connector_page.status_code == 200
    connector = Connector.objects.get()
    response = settings_post(ui_client("marketer"), connector, enabled="on")
    assert response.status_code == 422
    assert "needs an access token" in response.content.decode()
    assert Connector.objects.get().enabled is False


def test_mappings_are_added_and_deleted(ui_client, connector):
    client = ui_client("marketer")
    response = client.post(
        "/linkedin/mappings/",
        {
            "form_urn": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:42,3)",
            "question_id": "777",
            "maps_to": "contact.phone",
        },
    )
    assert response.status_code == 302
    mapping = FieldMapping.objects.get(question_id="777")
    assert mapping.form_urn == "urn:li:leadGenForm:42"  # any version of the form
    assert "contact.phone" in client.get("/linkedin/").content.decode()

    duplicate = client.post(
        "/linkedin/mappings/",
        {"form_urn": "42", "question_id": "777", "maps_to": "contact.country"},
    )
    assert duplicate.status_code == 422
    assert "already mapped" in duplicate.content.decode()

    assert client.post(f"/linkedin/mappings/{mapping.pk}/delete/").status_code == 302
    assert not FieldMapping.objects.filter(pk=mapping.pk).exists()


def test_sync_now_runs_a_sync_and_the_log_shows_it(
    ui_client, connector, fake_linkedin, django_capture_on_commit_callbacks
):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    client = ui_client("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/linkedin/sync/")

    assert response.status_code == 302 and response["Location"] == "/linkedin/runs/"
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.created) == ("manual", "succeeded", 1)
    assert run.requested_by.username == "marketer-user"
    log = client.get("/linkedin/runs/").content.decode()
    assert f"#{run.pk}" in log and "succeeded" in log and "Sync now" in log


def test_sync_now_explains_why_it_cannot_run(ui_client, connector):
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    response = ui_client("marketer").post("/linkedin/sync/", follow=True)
    assert "not enabled" in response.content.decode()
    assert SyncRun.objects.count() == 0


def test_the_log_shows_failures_with_their_reason(ui_client, connector, fake_linkedin):
    fake_linkedin.fail = (500, {"status": 500, "message": "Internal Server Error"})
    linkedin_sync(connector=connector, trigger="schedule")

    html = ui_client("marketer").get("/linkedin/runs/").content.decode()

    assert "failed" in html and "HTTP 500" in html and "Internal Server Error" in html


def test_the_responses_page_shows_outcomes_and_orphan_leads(ui_client, connector, fake_linkedin):
    connector.contact_creation_enabled = False
    connector.save()
    fake_linkedin.add(
        lead_response("r-orphan", now_ms(-60), email="stranger@example.com"),
        lead_response("r-bad", now_ms(-30), email="nope"),
    )
    linkedin_sync(connector=connector, trigger="schedule")
    client = ui_client("marketer")

    html = client.get("/linkedin/responses/").content.decode()
    assert "orphan lead" in html and "lead created" in html and "rejected" in html

    rejected_only = client.get("/linkedin/responses/", {"outcome": "rejected"}).content.decode()
    assert "r-bad" in rejected_only and "r-orphan" not in rejected_only


def test_the_settings_page_shows_the_cursor_and_webhook(ui_client, connector, fake_linkedin):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    linkedin_sync(connector=connector, trigger="schedule")

    html = ui_client("administrator").get("/linkedin/").content.decode()

    assert "/api/v1/public/linkedin/webhook" in html
    assert "responses submitted from" in html
    assert ACCOUNT in html
