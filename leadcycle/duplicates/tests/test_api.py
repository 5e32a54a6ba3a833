"""The duplicate review and merge endpoints, with the roles and error shapes of the API."""

import pytest

from leadcycle.crm.models import Contact, Lead
from leadcycle.duplicates.models import Merge
from leadcycle.testing.factories import AccountFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def twins():
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@a.example", phone="")
    twin = ContactFactory(
        first_name=" ada", last_name="LOVELACE", email="ada@b.example", phone="+46 1"
    )
    ContactFactory(first_name="Grace", last_name="Hopper")
    return ada, twin


def test_the_review_groups_contacts_by_name_ignoring_case_and_spaces(api_client, twins):
    ada, twin = twins
    body = api_client("seller").get("/api/v1/duplicates/contacts").json()
    assert body["count"] == 1
    (group,) = body["items"]
    assert (group["reason"], group["value"], group["size"]) == ("same_name", "Ada Lovelace", 2)
    assert [r["id"] for r in group["records"]] == [ada.pk, twin.pk]  # the oldest first


def test_records_marked_as_different_leave_the_review(api_client, twins):
    ada, twin = twins
    marketer = api_client("marketer")
    response = post(
        marketer, "/api/v1/duplicates/contacts/not-duplicates", {"ids": [twin.pk, ada.pk]}
    )
    assert response.json() == {"marked_pairs": 1}
    assert marketer.get("/api/v1/duplicates/contacts").json()["items"] == []
    again = post(marketer, "/api/v1/duplicates/contacts/not-duplicates", {"ids": [ada.pk, twin.pk]})
    assert again.json() == {"marked_pairs": 0}
    bad = post(marketer, "/api/v1/duplicates/contacts/not-duplicates", {"ids": [ada.pk]})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "too_few_records"


def test_accounts_are_grouped_by_domain(api_client):
    AccountFactory(name="Contoso", web_domain="contoso.com")
    AccountFactory(name="Contoso Ltd", web_domain="contoso.com")
    body = api_client("administrator").get("/api/v1/duplicates/accounts").json()
    assert [(g["reason"], g["value"]) for g in body["items"]] == [("same_domain", "contoso.com")]


def test_preview_shows_what_a_merge_would_do_and_writes_nothing(api_client, twins):
    ada, twin = twins
    LeadFactory(parent_contact=twin)
    response = post(
        api_client("seller"),
        f"/api/v1/contacts/{ada.pk}/merge/preview",
        {"merged_id": twin.pk, "keep": {"email": "merged"}},
    )
    assert response.status_code == 200
    body = response.json()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["email"]["result"] == "ada@b.example"
    assert (fields["phone"]["result"], fields["phone"]["rule"]) == ("+46 1", "filled")
    assert body["moves"] == [
        {"ref": "crm.lead.parent_contact", "label": "leads (parent contact)", "rows": 1}
    ]
    assert Contact.objects.filter(pk=twin.pk).exists()


def test_merge_and_undo_through_the_api(api_client, twins):
    ada, twin = twins
    lead = LeadFactory(parent_contact=twin)
    marketer = api_client("marketer")
    response = post(marketer, f"/api/v1/contacts/{ada.pk}/merge", {"merged_id": twin.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["survivor_id"], body["merged_id"], body["by"]) == (
        ada.pk,
        twin.pk,
        "marketer-user",
    )
    assert body["moved"] == {"crm.lead.parent_contact": 1}
    assert body["survivor_after"] == {"phone": "+46 1"}
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == ada.pk
    assert marketer.get(f"/api/v1/contacts/{twin.pk}").status_code == 404

    listed = marketer.get(f"/api/v1/merges?entity=contact&record_id={ada.pk}").json()
    assert [m["id"] for m in listed] == [body["id"]]

    undone = post(marketer, f"/api/v1/merges/{body['id']}/undo", {})
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    assert marketer.get(f"/api/v1/contacts/{twin.pk}").json()["email"] == "ada@b.example"
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == twin.pk
    again = post(marketer, f"/api/v1/merges/{body['id']}/undo", {})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_undone")


def test_merging_needs_the_right_to_delete(api_client, twins):
    ada, twin = twins
    for role in ("seller", "telemarketer", "sales_manager"):
        response = post(
            api_client(role), f"/api/v1/contacts/{ada.pk}/merge", {"merged_id": twin.pk}
        )
        assert response.status_code == 403, role
        assert response.json()["error"]["code"] == "forbidden"
    old, new = AccountFactory(), AccountFactory()
    refused = post(
        api_client("marketer"), f"/api/v1/accounts/{old.pk}/merge", {"merged_id": new.pk}
    )
    assert refused.status_code == 403
    done = post(
        api_client("administrator"), f"/api/v1/accounts/{old.pk}/merge", {"merged_id": new.pk}
    )
    assert done.status_code == 200
    assert not Merge.objects.filter(entity="contact").exists()


def test_bad_merges_name_the_field_at_fault(api_client, twins):
    ada, twin = twins
    admin = api_client("administrator")
    same = post(admin, f"/api/v1/contacts/{ada.pk}/merge", {"merged_id": ada.pk})
    assert same.status_code == 422
    assert same.json()["error"]["code"] == "same_record"
    assert "merged_id" in same.json()["error"]["fields"]
    unknown = post(admin, f"/api/v1/contacts/{ada.pk}/merge", {"merged_id": 999999})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    keep = post(
        admin,
        f"/api/v1/contacts/{ada.pk}/merge",
        {"merged_id": twin.pk, "keep": {"salary": "merged"}},
    )
    assert keep.status_code == 422
    assert keep.json()["error"]["fields"]["keep.salary"]["code"] == "unknown_field"
    missing = post(admin, f"/api/v1/contacts/{ada.pk}/merge", {})
    assert missing.status_code == 422
    assert "merged_id" in missing.json()["error"]["fields"]
    assert admin.get("/api/v1/duplicates/leads").status_code == 404
    huge = post(admin, f"/api/v1/contacts/{10**22}/merge", {"merged_id": ada.pk})
    assert huge.status_code == 404
    assert huge.json()["error"]["fields"]["survivor_id"]["code"] == "not_found"
    too_big = post(admin, f"/api/v1/contacts/{ada.pk}/merge", {"merged_id": 10**22})
    assert too_big.status_code == 422 and "merged_id" in too_big.json()["error"]["fields"]
    assert admin.get("/api/v1/merges?entity=contacts").json()["error"]["code"] == "unknown_entity"
    bogus = admin.get("/api/v1/duplicates/contacts?reason=bogus")
    assert bogus.status_code == 422
    assert bogus.json()["error"]["fields"]["reason"]["message"] == "same_name, same_phone"
    assert Contact.objects.filter(pk=twin.pk).exists()


def test_anonymous_requests_are_refused(client, twins):
    assert client.get("/api/v1/duplicates/contacts").status_code == 401
