"""Syncing form responses from a fake LinkedIn: records per mapping, idempotency, the cursor,
paging, the two strategies, contact creation off, and LinkedIn's refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcycle.crm.models import Account, Contact, Interaction, Lead
from leadcycle.errors import DomainError
from leadcycle.linkedin.models import Connector, FieldMapping, ReceivedResponse, SyncRun
from leadcycle.linkedin.services import linkedin_response_apply, linkedin_sync
from leadcycle.linkedin.tests.conftest import (
    ACCOUNT,
    FORM,
    Q_COMPANY,
    Q_EMAIL,
    Q_TITLE,
    TOKEN,
    answer,
    lead_response,
    now_ms,
)
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def sync(connector, **kwargs):
    return linkedin_sync(connector=connector, trigger=SyncRun.Trigger.SCHEDULE, **kwargs)


def counts():
    return (
        Contact.objects.count(),
        Lead.objects.count(),
        Interaction.objects.filter(kind="linkedin_form_submitted").count(),
        ReceivedResponse.objects.count(),
    )


def test_sync_creates_contacts_leads_and_interactions_per_mapping(connector, fake_linkedin):
    fake_linkedin.add(
        lead_response("r-1", now_ms(-300), email="Ada@Example.com", company="Analytical Engines"),
        lead_response("r-2", now_ms(-200), email="grace@example.com", first="Grace", last="Hopper"),
        lead_response("r-3", now_ms(-100), email="ada@example.com "),
    )

    run = sync(connector)

    assert run.status == "succeeded", run.error
    assert (run.fetched, run.created, run.updated, run.skipped) == (3, 3, 0, 0)
    assert counts() == (2, 3, 3, 3)  # Ada answered twice: one contact, a lead per response
    ada = Contact.objects.get(email_normalized="ada@example.com")
    assert (ada.first_name, ada.last_name, ada.origin_channel) == ("Ada", "Lovelace", "linkedin")
    assert ada.account == Account.objects.get(name="Analytical Engines")
    lead = Lead.objects.filter(parent_contact=ada).earliest("id")
    assert lead.source_channel == "linkedin"
    assert lead.origin_ref == "linkedin:3162"
    assert (lead.topic, lead.campaign) == ("LinkedIn: Analytics Suite", "Spring Webinar Series")
    interaction = Interaction.objects.get(lead=lead)
    assert interaction.kind == "linkedin_form_submitted" and interaction.contact == ada
    assert interaction.attributes["linkedin_response_id"] == "r-1"
    assert int(interaction.occurred_at.timestamp() * 1000) // 1000 == (
        ReceivedResponse.objects.get(response_id="r-1").submitted_at_ms // 1000
    )
    connector.refresh_from_db()
    assert connector.cursor_submitted_at == fake_linkedin.responses[-1]["submittedAt"]


def test_the_request_is_the_documented_finder_with_its_headers(connector, fake_linkedin):
    sync(connector)

    (request,) = fake_linkedin.finder_requests()
    assert request["query"]["q"] == "owner"
    assert request["query"]["owner"] == f"(sponsoredAccount:{ACCOUNT})"
    assert request["query"]["leadType"] == "(leadType:SPONSORED)"
    assert request["query"]["submittedAtTimeRange"].startswith("(start:")
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Linkedin-Version"] == connector.linkedin_version
    assert request["headers"]["X-Restli-Protocol-Version"] == "2.0.0"


def test_resync_changes_nothing(connector, fake_linkedin):
    fake_linkedin.add(
        lead_response("r-1", now_ms(-300)),
        lead_response("r-2", now_ms(-200), email="grace@example.com"),
    )
    sync(connector)
    before = counts()
    connector.cursor_submitted_at = None  # even asking for everything again
    connector.save()

    again = sync(connector)

    assert again.status == "succeeded"
    assert (again.fetched, again.created, again.updated, again.skipped) == (2, 0, 0, 2)
    assert counts() == before


def test_pages_until_a_page_holds_fewer_than_count(connector, fake_linkedin):
    fake_linkedin.add(
        *(lead_response(f"r-{i}", now_ms(-100 * i), email=f"p{i}@example.com") for i in range(5))
    )

    run = sync(connector, page_size=2)

    starts = [int(r["query"]["start"]) for r in fake_linkedin.finder_requests()]
    assert starts == [0, 2, 4]
    assert all(r["query"]["count"] == "2" for r in fake_linkedin.finder_requests())
    assert run.created == 5 and Lead.objects.count() == 5


def test_cursor_advances_and_only_new_responses_are_fetched(connector, fake_linkedin):
    first_at = now_ms(-600)
    fake_linkedin.add(lead_response("r-1", first_at - 1000), lead_response("r-2", first_at))
    sync(connector)
    connector.refresh_from_db()
    assert connector.cursor_submitted_at == first_at
    # Later: two new responses, and one LinkedIn lists late with an old submittedAt.
    fake_linkedin.add(
        lead_response("r-3", now_ms(-60), email="new1@example.com"),
        lead_response("r-4", now_ms(-30), email="new2@example.com"),
        lead_response("r-old", first_at - 5000, email="old@example.com"),
    )

    run = sync(connector)

    second = fake_linkedin.finder_requests()[-1]
    assert second["query"]["submittedAtTimeRange"].startswith(f"(start:{first_at},")
    # The newest already-seen response sits on the cursor and comes back once: skipped.
    assert (run.fetched, run.created, run.skipped) == (3, 2, 1)
    assert not Contact.objects.filter(email_normalized="old@example.com").exists()
    connector.refresh_from_db()
    assert connector.cursor_submitted_at == fake_linkedin.responses[3]["submittedAt"]
    assert (run.cursor_before, run.cursor_after) == (first_at, connector.cursor_submitted_at)


def test_contact_creation_off_leaves_orphan_leads(connector, fake_linkedin):
    connector.contact_creation_enabled = False
    connector.save()
    fake_linkedin.add(lead_response("r-1", now_ms(-100), email="stranger@example.com"))

    run = sync(connector)

    assert run.created == 1
    assert Contact.objects.count() == 0
    lead = Lead.objects.get()
    assert lead.parent_contact is None and lead.source_channel == "linkedin"
    received = ReceivedResponse.objects.get()
    assert received.orphan and received.contact_action == "none"
    interaction = Interaction.objects.get(kind="linkedin_form_submitted")
    assert interaction.lead == lead and interaction.contact is None


def test_contact_creation_off_links_a_contact_that_matches_without_changing_it(
    connector, fake_linkedin
):
    connector.contact_creation_enabled = False
    connector.save()
    known = ContactFactory(email="ada@example.com", first_name="Augusta", last_name="King")
    fake_linkedin.add(lead_response("r-1", now_ms(-100), email="ADA@example.com", first="Ada"))

    sync(connector)

    lead = Lead.objects.get()
    assert lead.parent_contact == known
    known.refresh_from_db()
    assert known.first_name == "Augusta"  # linked, not updated
    assert ReceivedResponse.objects.get().contact_action == "linked"
    assert Interaction.objects.get(kind="linkedin_form_submitted").contact == known


def test_match_mode_updates_the_open_lead_instead_of_creating(connector, fake_linkedin):
    connector.mode = Connector.Mode.MATCH_ON_MAPPED_FIELDS
    connector.save()
    FieldMapping.objects.create(
        connector=connector, question_id=str(Q_TITLE), maps_to="lead.description"
    )
    ada = ContactFactory(email="ada@example.com")
    open_lead = LeadFactory(parent_contact=ada, origin_ref="linkedin:3162", topic="Earlier")
    fake_linkedin.add(
        lead_response(
            "r-1",
            now_ms(-100),
            email="ada@example.com",
            extra_answers=[answer(Q_TITLE, "Wants a demo")],
        )
    )

    run = sync(connector)

    assert (run.created, run.updated) == (0, 1)
    assert Lead.objects.count() == 1
    open_lead.refresh_from_db()
    assert open_lead.description == "Wants a demo"
    received = ReceivedResponse.objects.get()
    assert received.lead == open_lead and received.outcome == "updated"
    assert Interaction.objects.get(kind="linkedin_form_submitted").lead == open_lead


def test_always_create_mode_creates_a_lead_even_when_one_matches(connector, fake_linkedin):
    ada = ContactFactory(email="ada@example.com")
    LeadFactory(parent_contact=ada, origin_ref="linkedin:3162")
    fake_linkedin.add(lead_response("r-1", now_ms(-100)))

    sync(connector)

    assert Lead.objects.filter(parent_contact=ada).count() == 2
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, {"status": 401, "code": "INVALID_ACCESS_TOKEN", "message": "Invalid token"}, 401),
        (429, {"status": 429, "message": "Resource level throttle limit reached"}, 429),
        (500, {"status": 500, "message": "Internal Server Error"}, 500),
    ],
)
def test_an_http_error_is_recorded_and_the_cursor_stays(
    connector, fake_linkedin, status, body, code
):
    connector.cursor_submitted_at = now_ms(-3600)
    connector.save()
    fake_linkedin.add(lead_response("r-1", now_ms(-100)))
    fake_linkedin.fail = (status, body)

    run = sync(connector)

    assert run.status == "failed" and run.http_status == code
    assert f"LinkedIn answered {code}" in run.error and body["message"] in run.error
    assert run.finished_at is not None
    connector.refresh_from_db()
    assert connector.cursor_submitted_at == run.cursor_before == run.cursor_after
    assert counts() == (0, 0, 0, 0)


def test_a_wrong_token_is_refused_by_the_server_and_recorded(connector, fake_linkedin):
    connector.access_token = "expired-token"
    connector.save()

    run = sync(connector)

    assert (run.status, run.http_status) == ("failed", 401)
    assert "INVALID_ACCESS_TOKEN" in run.error
    assert "expired-token" not in run.error


def test_an_unreachable_api_is_recorded(connector, fake_linkedin):
    connector.api_base_url = "http://127.0.0.1:9"  # discard port: nothing listens
    connector.save()

    run = sync(connector)

    assert run.status == "failed" and run.http_status is None
    assert "Could not reach LinkedIn" in run.error
    assert Connector.objects.get().cursor_submitted_at is None


def test_a_failure_on_a_later_page_applies_nothing(connector, fake_linkedin, monkeypatch):
    fake_linkedin.add(
        *(lead_response(f"r-{i}", now_ms(-100 * i), email=f"p{i}@example.com") for i in range(3))
    )
    from leadcycle.linkedin import client

    real = client.LeadSyncApi.responses_page
    pages = []

    def second_page_fails(self, **kwargs):
        pages.append(kwargs["start"])
        if kwargs["start"] > 0:
            raise client.LeadSyncError("LinkedIn answered 503.", status=503)
        return real(self, **kwargs)

    monkeypatch.setattr(client.LeadSyncApi, "responses_page", second_page_fails)

    run = sync(connector, page_size=2)

    assert pages == [0, 2]
    assert (run.status, run.http_status) == ("failed", 503)
    assert counts() == (0, 0, 0, 0)
    assert Connector.objects.get().cursor_submitted_at is None


def test_an_invalid_email_rejects_the_response_and_it_is_not_retried(connector, fake_linkedin):
    fake_linkedin.add(lead_response("r-1", now_ms(-100), email="not-an-email"))

    run = sync(connector)
    again = sync(connector)

    assert (run.created, run.rejected) == (0, 1)
    received = ReceivedResponse.objects.get()
    assert received.outcome == "rejected" and "contact.email" in received.errors
    assert (Contact.objects.count(), Lead.objects.count()) == (0, 0)
    assert again.skipped == 1


def test_a_mapping_for_one_form_wins_over_the_mapping_for_every_form(connector, fake_linkedin):
    FieldMapping.objects.create(
        connector=connector,
        form_urn="urn:li:leadGenForm:3162",
        question_id=str(Q_COMPANY),
        maps_to="contact.job_title",
    )
    other_form = "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:777,2)"
    fake_linkedin.add(
        lead_response("r-1", now_ms(-200), email="a@example.com", company="CTO"),
        lead_response("r-2", now_ms(-100), email="b@example.com", company="Acme", form=other_form),
    )

    sync(connector)

    a = Contact.objects.get(email_normalized="a@example.com")
    b = Contact.objects.get(email_normalized="b@example.com")
    assert (a.job_title, a.account) == ("CTO", None)
    assert (b.job_title, b.account.name) == ("", "Acme")
    assert Lead.objects.get(parent_contact=b).origin_ref == "linkedin:777"


def test_applying_the_same_response_twice_returns_the_first(connector):
    response = lead_response("r-1", now_ms(-100))

    first = linkedin_response_apply(connector=connector, response_json=response)
    second = linkedin_response_apply(connector=connector, response_json=response)

    assert first.new and not second.new
    assert second.received.pk == first.received.pk
    assert counts() == (1, 1, 1, 1)


def test_a_response_without_an_id_is_counted_as_rejected(connector, fake_linkedin):
    broken = lead_response("r-x", now_ms(-100))
    broken["id"] = ""
    fake_linkedin.add(broken)

    run = sync(connector)

    assert run.status == "succeeded" and run.rejected == 1
    assert "no usable id" in run.error
    assert counts() == (0, 0, 0, 0)


def test_a_disabled_or_incomplete_connector_does_not_sync(connector):
    connector.enabled = False
    connector.save()
    with pytest.raises(DomainError) as disabled:
        sync(connector)
    assert disabled.value.code == "connector_disabled"
    connector.enabled, connector.access_token = True, ""
    connector.save()
    with pytest.raises(DomainError) as incomplete:
        sync(connector)
    assert incomplete.value.code == "connector_not_configured"
    assert SyncRun.objects.count() == 0


def test_responses_of_every_sponsored_account_are_synced(connector, fake_linkedin):
    other = "urn:li:sponsoredAccount:999"
    connector.sponsored_accounts = f"{ACCOUNT}\n{other}"
    connector.save()
    fake_linkedin.add(
        lead_response("r-1", now_ms(-100)),
        lead_response("r-2", now_ms(-50), email="b@example.com", owner=other),
    )

    run = sync(connector)

    assert run.created == 2
    owners = {r["query"]["owner"] for r in fake_linkedin.finder_requests()}
    assert owners == {f"(sponsoredAccount:{ACCOUNT})", f"(sponsoredAccount:{other})"}


def test_the_raw_response_is_kept(connector, fake_linkedin):
    response = lead_response("r-1", now_ms(-100), form=FORM)
    fake_linkedin.add(response)

    sync(connector)

    received = ReceivedResponse.objects.get()
    assert received.raw == response
    assert received.form_urn == FORM
    assert received.values["contact.email"] == "ada@example.com"
    assert str(Q_EMAIL) in str(received.raw)


def test_replays_cost_a_fixed_number_of_queries(
    connector, fake_linkedin, django_assert_num_queries
):
    response = lead_response("r-0", now_ms(-500))
    linkedin_response_apply(connector=connector, response_json=response)
    with django_assert_num_queries(1):  # the lookup of the response id, nothing else
        assert not linkedin_response_apply(connector=connector, response_json=response).new

    fake_linkedin.add(
        *(lead_response(f"r-{i}", now_ms(-100 + i), email=f"p{i}@example.com") for i in range(3))
    )
    sync(connector)
    connector.cursor_submitted_at = None
    connector.save()
    with CaptureQueriesContext(connection) as three:
        sync(connector)
    fake_linkedin.add(
        *(lead_response(f"s-{i}", now_ms(-50 + i), email=f"s{i}@example.com") for i in range(9))
    )
    sync(connector)
    connector.cursor_submitted_at = None
    connector.save()
    with CaptureQueriesContext(connection) as twelve:
        run = sync(connector)

    assert run.skipped == 12
    assert len(twelve) == len(three)  # a re-sync does not cost a query per response
