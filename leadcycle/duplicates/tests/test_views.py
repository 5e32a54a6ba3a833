"""The duplicate review pages: review, compare and merge, history and undo, roles."""

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Contact, Lead
from leadcycle.duplicates.models import Merge, NotDuplicate
from leadcycle.duplicates.selectors import duplicate_groups
from leadcycle.interactions.services import website_visit_record
from leadcycle.testing.factories import AccountFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins():
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@a.example", phone="")
    twin = ContactFactory(
        first_name="Ada", last_name="lovelace", email="ada@b.example", phone="+46 1"
    )
    return ada, twin


def test_the_review_page_lists_groups_with_compare_links(ui_client, twins):
    ada, twin = twins
    page = ui_client("marketer").get("/duplicates/contacts/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ada Lovelace" in html and "Same first and last name" in html
    assert f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/" in html
    assert "Not duplicates" in html


def test_the_nav_offers_duplicates_to_those_who_may_merge(ui_client):
    assert 'href="/duplicates/"' in ui_client("marketer").get("/").content.decode()
    assert 'href="/duplicates/"' not in ui_client("seller").get("/").content.decode()


def test_compare_then_merge_with_a_chosen_value_then_undo(ui_client, twins):
    ada, twin = twins
    lead = LeadFactory(parent_contact=twin)
    client = ui_client("marketer")
    page = client.get(f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/").content.decode()
    assert 'name="keep_email"' in page  # the emails differ: a choice
    assert 'name="keep_last_name"' in page
    assert "1 leads (parent contact)" in page

    response = client.post(
        f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/",
        {"keep_email": "merged", "keep_last_name": "survivor"},
    )
    merge = Merge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/duplicates/merges/{merge.pk}/"
    ada.refresh_from_db()
    assert (ada.email, ada.phone) == ("ada@b.example", "+46 1")
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == ada.pk

    detail = client.get(response["Location"]).content.decode()
    assert "1 leads (parent contact)" in detail and "Undo merge" in detail

    client.post(f"/duplicates/merges/{merge.pk}/undo/")
    assert Contact.objects.get(pk=twin.pk).email == "ada@b.example"
    assert Contact.objects.get(pk=ada.pk).email == "ada@a.example"
    after = client.get(f"/duplicates/merges/{merge.pk}/").content.decode()
    assert "undone" in after and "Undo merge" not in after


def test_a_refused_merge_says_why_on_the_page(ui_client, twins):
    ada, _ = twins
    response = ui_client("administrator").post(f"/duplicates/contacts/{ada.pk}/merge/{ada.pk}/")
    assert response.status_code == 422
    assert "cannot be merged into itself" in response.content.decode()


def test_reviewers_without_merge_rights_see_the_comparison_but_cannot_merge(ui_client, twins):
    ada, twin = twins
    seller = ui_client("seller")
    page = seller.get(f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/")
    assert page.status_code == 200
    assert 'id="merge-submit"' not in page.content.decode()
    assert seller.post(f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/").status_code == 403
    assert Contact.objects.filter(pk=twin.pk).exists()
    assert ui_client("telemarketer").post("/duplicates/contacts/not-duplicates/").status_code == 403


def test_not_duplicates_empties_the_review(ui_client, twins):
    ada, twin = twins
    client = ui_client("marketer")
    client.post("/duplicates/contacts/not-duplicates/", {"ids": [ada.pk, twin.pk]})
    assert NotDuplicate.objects.filter(low_id=ada.pk, high_id=twin.pk).exists()
    assert "No likely duplicates" in client.get("/duplicates/contacts/").content.decode()


def test_a_record_page_starts_a_merge_by_email_and_shows_merged_history(ui_client, twins):
    ada, twin = twins
    client = ui_client("marketer")
    detail = client.get(f"/contacts/{ada.pk}/").content.decode()
    assert f"/duplicates/contacts/{ada.pk}/merge/" in detail
    start = client.get(f"/duplicates/contacts/{ada.pk}/merge/").content.decode()
    assert f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/" in start  # a likely duplicate
    found = client.get(f"/duplicates/contacts/{ada.pk}/merge/?other= ADA@B.example ")
    assert found["Location"] == f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/"
    missing = client.get(f"/duplicates/contacts/{ada.pk}/merge/?other=nobody@x.example")
    assert missing.status_code == 422

    AuditEntry.objects.create(
        action="update", record_type="crm.contact", record_id=twin.pk, record_repr="Ada",
        changes={"job_title": ["", "Countess"]},
    )  # fmt: skip
    client.post(f"/duplicates/contacts/{ada.pk}/merge/{twin.pk}/")
    history = client.get(f"/contacts/{ada.pk}/").content.decode()
    assert "Countess" in history and f"#{twin.pk}, merged in" in history
    api_history = client.get(f"/api/v1/contacts/{ada.pk}/history").json()
    assert any(e["changes"].get("job_title") == ["", "Countess"] for e in api_history)


def test_accounts_have_their_own_review_for_administrators(ui_client):
    AccountFactory(name="Contoso", web_domain="contoso.com")
    AccountFactory(name="CONTOSO ", web_domain="contoso.example")
    admin = ui_client("administrator")
    page = admin.get("/duplicates/accounts/").content.decode()
    assert "Same name" in page and "Contoso" in page
    assert admin.get("/duplicates/leads/").status_code == 404


def test_a_known_visitor_of_a_merged_contact_is_credited_to_the_survivor(twins):
    from leadcycle.duplicates.services import record_merge

    ada, twin = twins
    record_merge(entity="contact", survivor_id=ada.pk, merged_id=twin.pk, by=None)
    visit = website_visit_record(url="https://example.com/pricing", contact_id=twin.pk)
    assert visit.contact_id == ada.pk


def test_groups_page_through_both_rules():
    for n in range(3):
        ContactFactory(first_name=f"Same{n}", last_name="Name")
        ContactFactory(first_name=f"same{n}", last_name="name")
    ContactFactory(phone="+46 99")
    ContactFactory(phone="+46 99")
    first, total = duplicate_groups(entity="contact", page=1, page_size=2)
    second, _ = duplicate_groups(entity="contact", page=2, page_size=2)
    assert total == 4
    assert [g.reason for g in first + second] == ["same_name"] * 3 + ["same_phone"]


def test_groups_marked_as_different_do_not_push_real_ones_off_the_first_page():
    from leadcycle.duplicates.services import not_duplicates_mark

    real = [ContactFactory(first_name="Real", last_name="Twin") for _ in range(2)]
    for n in range(3):  # newer groups, all marked as different people
        pair = [ContactFactory(first_name=f"Other{n}", last_name="Pair") for _ in range(2)]
        not_duplicates_mark(entity="contact", ids=[c.pk for c in pair], by=None)
    groups, total = duplicate_groups(entity="contact", page=1, page_size=2)
    assert total == 1
    assert [[c.pk for c in g.records] for g in groups] == [[c.pk for c in real]]


def test_an_undo_that_cannot_put_values_back_says_why(ui_client, twins):
    from leadcycle.duplicates.services import record_merge

    ada, twin = twins
    merge = record_merge(
        entity="contact", survivor_id=ada.pk, merged_id=twin.pk, by=None, keep={"email": "merged"}
    )
    ContactFactory(email="ada@a.example")  # the survivor's old address, taken since
    client = ui_client("marketer")
    response = client.post(f"/duplicates/merges/{merge.pk}/undo/", follow=True)
    assert response.status_code == 200
    assert "cannot be put back" in response.content.decode()
    assert not Contact.objects.filter(pk=twin.pk).exists()


def test_an_old_link_to_a_merged_contact_leads_to_the_survivor(ui_client, twins):
    from leadcycle.duplicates.services import record_merge

    ada, twin = twins
    record_merge(entity="contact", survivor_id=ada.pk, merged_id=twin.pk, by=None)
    response = ui_client("seller").get(f"/contacts/{twin.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{ada.pk}/"
    assert ui_client("seller").get("/contacts/999999/").status_code == 404


def test_the_merge_page_shows_values_as_people_read_them(ui_client):
    from leadcycle.duplicates.services import record_merge

    account = AccountFactory(name="Analytical Engines")
    ada = ContactFactory(first_name="Ada", last_name="L", role="other", account=None)
    twin = ContactFactory(first_name="Ada", last_name="L", role="decision_maker", account=account)
    merge = record_merge(entity="contact", survivor_id=ada.pk, merged_id=twin.pk, by=None)
    page = ui_client("marketer").get(f"/duplicates/merges/{merge.pk}/").content.decode()
    assert "Decision maker" in page
    assert f"Analytical Engines (#{account.pk})" in page


def test_an_administrator_merges_two_accounts_found_by_domain(ui_client):
    old = AccountFactory(name="Contoso", web_domain="", industry="Retail")
    new = AccountFactory(name="Contoso Ltd", web_domain="contoso.com", industry="Software")
    person = ContactFactory(account=new)
    admin = ui_client("administrator")
    found = admin.get(f"/duplicates/accounts/{old.pk}/merge/?other=https://www.Contoso.com/")
    assert found["Location"] == f"/duplicates/accounts/{old.pk}/merge/{new.pk}/"
    page = admin.get(found["Location"]).content.decode()
    assert 'name="keep_industry"' in page and "1 contacts" in page
    admin.post(found["Location"], {"keep_industry": "merged"})
    old.refresh_from_db()
    assert (old.web_domain, old.industry) == ("contoso.com", "Software")
    assert Contact.objects.get(pk=person.pk).account_id == old.pk
    # A marketer sees the comparison of accounts but may not merge them.
    marketer = ui_client("marketer")
    other = AccountFactory(name="Contoso")
    assert (
        "Merging needs the right to delete accounts"
        in marketer.get(f"/duplicates/accounts/{old.pk}/merge/{other.pk}/").content.decode()
    )
    assert marketer.post(f"/duplicates/accounts/{old.pk}/merge/{other.pk}/").status_code == 403
