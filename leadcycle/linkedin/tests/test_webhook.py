"""LinkedIn's webhook: the validation challenge, signed lead notifications (enqueue a sync
that applies the lead), bad signatures (401, nothing written) and replays (nothing new)."""

import hashlib
import hmac
import json
import uuid

import pytest
from django.test import Client

from leadcycle.crm.models import Contact, Interaction, Lead
from leadcycle.linkedin.models import Connector, ReceivedResponse, SyncRun
from leadcycle.linkedin.signing import challenge_response, signature_valid
from leadcycle.linkedin.tests.conftest import ACCOUNT, FORM, SECRET, lead_response, now_ms

URL = "/api/v1/public/linkedin/webhook"


def notification(response_id: str, action: str = "CREATED") -> dict:
    """A lead notification as LinkedIn's Lead Sync documentation shows it."""
    return {
        "type": "LEAD_ACTION",
        "leadGenFormResponse": f"urn:li:leadGenFormResponse:{response_id}",
        "leadGenForm": FORM,
        "owner": {"sponsoredAccount": ACCOUNT},
        "associatedEntity": {"sponsoredCreative": "urn:li:sponsoredCreative:456"},
        "leadType": "SPONSORED",
        "leadAction": action,
        "occurredAt": now_ms(),
    }


def signed(body: bytes, secret: str = SECRET) -> str:
    """X-LI-Signature as documented: hex HMAC-SHA256 of ``hmacsha256=`` + the raw body."""
    return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


def post(client: Client, payload: object, signature: str | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {} if signature is None else {"X-LI-Signature": signature}
    return client.generic("POST", URL, body, content_type="application/json", headers=headers)


def written() -> tuple[int, ...]:
    return (
        SyncRun.objects.count(),
        ReceivedResponse.objects.count(),
        Contact.objects.count(),
        Lead.objects.count(),
        Interaction.objects.count(),
    )


# Validation -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_challenge_is_answered_with_the_hmac_of_the_code(client, connector):
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"

    response = client.get(URL, {"challengeCode": code})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    expected = hmac.new(SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert response.json() == {"challengeCode": code, "challengeResponse": expected}


def test_the_documented_challenge_example_is_reproduced():
    # Hex-encoded HMACSHA256(challengeCode, clientSecret), lower-case, 64 characters.
    answer = challenge_response("890e4665-4dfe-4ab1-b689-ed553bceeed0", "secret")
    assert len(answer) == 64 and answer == answer.lower()
    assert (
        answer == hmac.new(b"secret", b"890e4665-4dfe-4ab1-b689-ed553bceeed0", "sha256").hexdigest()
    )


@pytest.mark.django_db
def test_a_challenge_sent_as_a_post_is_answered_too(client, connector):
    code = str(uuid.uuid4())

    response = post(client, {"challengeCode": code})

    assert response.status_code == 200
    assert response.json()["challengeResponse"] == challenge_response(code, SECRET)


@pytest.mark.django_db
def test_only_uuid_challenges_are_answered_so_the_endpoint_signs_nothing_else(client, connector):
    forged_body = json.dumps(notification("forged"))

    response = client.get(URL, {"challengeCode": "hmacsha256=" + forged_body})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "challengeResponse" not in response.json()


@pytest.mark.django_db
def test_the_challenge_needs_a_configured_secret(client):
    response = client.get(URL, {"challengeCode": str(uuid.uuid4())})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "linkedin_not_configured"


# Bad input --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 64,
        "hmacsha256=" + "0" * 64,
        "signed-with-another-secret",
        "ünïcode",
    ],
)
def test_a_bad_signature_is_401_in_the_error_shape_and_nothing_is_written(
    client, connector, fake_linkedin, signature
):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    payload = notification("r-1")
    if signature == "signed-with-another-secret":
        signature = signed(json.dumps(payload).encode(), "another-secret")

    response = post(client, payload, signature)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_signature" and error["message"] and "fields" in error
    assert written() == (0, 0, 0, 0, 0)
    assert fake_linkedin.requests == []


@pytest.mark.django_db
def test_a_signature_of_another_body_is_refused(client, connector):
    body = json.dumps(notification("r-1")).encode()
    tampered = body.replace(b"r-1", b"r-2")

    response = post(client, None, signed(body), raw=tampered)

    assert response.status_code == 401
    assert written() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_signed_body_that_is_not_json_is_400(client, connector):
    response = post(client, None, signed(b"not json"), raw=b"not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.django_db
def test_a_body_over_64_kb_is_refused(client, connector):
    body = json.dumps({"pad": "x" * 70_000}).encode()

    response = post(client, None, signed(body), raw=body)

    assert response.status_code == 413


def test_both_readings_of_the_signature_are_accepted_and_nothing_else():
    body = b'{"type": "LEAD_ACTION"}'
    digest_of_body = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature_valid(body, signed(body), SECRET)  # the documentation, literally
    assert signature_valid(body, "hmacsha256=" + digest_of_body, SECRET)  # prefix in the header
    assert signature_valid(body, signed(body).upper(), SECRET)
    assert not signature_valid(body + b" ", signed(body), SECRET)
    assert not signature_valid(body, signed(body), "")
    assert not signature_valid(body, None, SECRET)


# Verified notifications -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_signed_notification_enqueues_a_sync_that_applies_the_lead(connector, fake_linkedin):
    fake_linkedin.add(lead_response("r-1", now_ms(-60), email="ada@example.com"))
    body = json.dumps(notification("r-1")).encode()

    response = post(Client(), None, signed(body), raw=body)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "response_ids": ["r-1"]}
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.created) == ("webhook", "succeeded", 1)
    lead = Lead.objects.get()
    assert lead.parent_contact == Contact.objects.get(email_normalized="ada@example.com")
    assert Interaction.objects.filter(kind="linkedin_form_submitted", lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_header_with_its_prefix_is_accepted_too(connector, fake_linkedin):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    body = json.dumps(notification("r-1")).encode()
    signature = "hmacsha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    response = post(Client(), None, signature, raw=body)

    assert response.status_code == 200 and Lead.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_replayed_notification_changes_nothing(connector, fake_linkedin):
    fake_linkedin.add(lead_response("r-1", now_ms(-60)))
    body = json.dumps(notification("r-1")).encode()
    client = Client()
    post(client, None, signed(body), raw=body)
    before = written()

    replays = [post(client, None, signed(body), raw=body) for _ in range(3)]

    assert {r.status_code for r in replays} == {200}
    assert {r.json()["status"] for r in replays} == {"duplicate"}
    assert written() == before  # no duplicate records, not even another sync run


@pytest.mark.django_db(transaction=True)
def test_a_lead_the_finder_does_not_list_yet_is_fetched_by_its_id(connector, fake_linkedin):
    # LinkedIn may notify before its finder lists the response (or list it under an older time).
    fake_linkedin.add(lead_response("a9a29e52-c0a3-42e3-8af1-2fc83b697003-4", now_ms(-60)))
    fake_linkedin.hidden_from_finder.add("a9a29e52-c0a3-42e3-8af1-2fc83b697003-4")
    body = json.dumps(notification("a9a29e52-c0a3-42e3-8af1-2fc83b697003-4")).encode()

    post(Client(), None, signed(body), raw=body)

    run = SyncRun.objects.get()
    assert (run.status, run.fetched, run.created) == ("succeeded", 1, 1)
    assert ReceivedResponse.objects.get().response_id == "a9a29e52-c0a3-42e3-8af1-2fc83b697003-4"
    paths = [r["path"] for r in fake_linkedin.requests]
    assert "/rest/leadFormResponses/a9a29e52-c0a3-42e3-8af1-2fc83b697003-4" in paths


@pytest.mark.django_db(transaction=True)
def test_a_failing_linkedin_during_a_webhook_sync_is_logged(connector, fake_linkedin):
    fake_linkedin.fail = (503, {"status": 503, "message": "Service Unavailable"})
    body = json.dumps(notification("r-1")).encode()

    response = post(Client(), None, signed(body), raw=body)

    assert response.status_code == 200  # LinkedIn's delivery succeeded; our pull did not
    run = SyncRun.objects.get()
    assert (run.status, run.http_status) == ("failed", 503)
    assert Lead.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        notification("r-1", action="DELETED"),
        {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": []},
        [],
    ],
)
def test_other_notifications_are_acknowledged_and_ignored(client, connector, payload):
    body = json.dumps(payload).encode()

    response = post(client, None, signed(body), raw=body)

    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert written() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_disabled_connector_ignores_notifications(client, connector):
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    body = json.dumps(notification("r-1")).encode()

    response = post(client, None, signed(body), raw=body)

    assert response.json()["status"] == "ignored"
    assert written() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_notification_goes_to_the_connector_of_its_ad_account(
    client, connector, django_capture_on_commit_callbacks, monkeypatch
):
    other = Connector.objects.create(
        enabled=True,
        client_secret=SECRET,
        access_token="other-token",
        sponsored_accounts="urn:li:sponsoredAccount:1",
    )
    payload = {**notification("r-9"), "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:1"}}
    body = json.dumps(payload).encode()
    enqueued = []
    from leadcycle.linkedin import tasks

    class Recorder:
        def enqueue(self, *args):
            enqueued.append(args)

    monkeypatch.setattr(tasks, "linkedin_sync_task", Recorder())

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, None, signed(body), raw=body)

    assert response.json()["status"] == "accepted"
    assert enqueued == [(other.pk, "webhook", None, ["r-9"])]
