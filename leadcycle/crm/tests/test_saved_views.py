"""Preset and saved list views (SPEC §8): Marketing and Sales contacts, sales-ready leads, the
telemarketing queue and my open leads; views saved, shared with a role, applied in UI and API."""

import json

import pytest

from leadcycle.crm.models import SavedView
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def ids(response):
    return sorted(item["id"] for item in response.json()["items"])


def test_the_sales_view_hides_marketing_only_contacts(api_client, ui_client):
    marketing = ContactFactory(marketing_only=True, last_name="Marketing")
    sales = ContactFactory(marketing_only=False, last_name="Sales")
    seller = api_client("seller")
    assert ids(seller.get("/api/v1/contacts", {"view": "marketing"})) == sorted(
        [marketing.pk, sales.pk]
    )
    assert ids(seller.get("/api/v1/contacts", {"view": "sales"})) == [sales.pk]
    page = ui_client("seller").get("/contacts/?view=sales").content.decode()
    assert 'aria-current="page" data-view="sales"' in page
    assert "Sales" in page and f"/contacts/{marketing.pk}/" not in page
    assert f"/contacts/{sales.pk}/" in page
    views = seller.get("/api/v1/views", {"entity": "contact"}).json()
    assert [v["key"] for v in views] == ["marketing", "sales"]


def test_lead_presets_sales_ready_telemarketing_queue_and_mine(api_client):
    from leadcycle.process.services import steps_set

    me = UserFactory(username="tess", role="telemarketer")
    ready = LeadFactory(sales_ready=True)
    queued = LeadFactory()
    steps_set(lead=queued, by=None, values={"telemarketing_ready": True})
    mine = LeadFactory(owner=me)
    LeadFactory(owner=me, status="disqualified", status_reason="Lost")
    from leadcycle.users.services import api_token_create

    token = api_token_create(user=me, name="t").raw
    client = api_client("telemarketer")
    headers = {"Authorization": f"Bearer {token}"}
    assert ids(client.get("/api/v1/leads", {"view": "sales_ready"})) == [ready.pk]
    assert ids(client.get("/api/v1/leads", {"view": "telemarketing"})) == [queued.pk]
    client.cookies.clear()
    assert ids(client.get("/api/v1/leads", {"view": "mine"}, headers=headers)) == [mine.pk]
    unknown = client.get("/api/v1/leads", {"view": "nope"}, headers=headers)
    assert unknown.status_code == 422 and "view" in unknown.json()["error"]["fields"]


def test_users_save_views_and_share_them_with_a_role(api_client, ui_client, role_user):
    norwegian = ContactFactory(country="NO", marketing_only=False)
    swede = ContactFactory(country="SE", marketing_only=False)
    seller = ui_client("seller")
    saved = seller.post(
        "/contacts/views/",
        {
            "name": "Norway",
            "shared_role": "sales_manager",
            "querystring": "view=sales&country=NO&sort=-created_at",
            "columns": ["Name", "Email"],
        },
    )
    view = SavedView.objects.get(name="Norway")
    assert saved.status_code == 302 and saved["Location"] == f"/contacts/?view={view.pk}"
    assert view.params == {"marketing_only": "false", "country": "NO", "sort": "-created_at"}
    page = seller.get(f"/contacts/?view={view.pk}").content.decode()
    assert f"/contacts/{norwegian.pk}/" in page and f"/contacts/{swede.pk}/" not in page
    assert ">Email<" in page and ">Job title<" not in page  # only the saved columns
    manager = api_client("sales_manager")
    shown = manager.get("/api/v1/views", {"entity": "contact"}).json()
    assert [v["name"] for v in shown] == ["Marketing", "Sales", "Norway"]
    assert len(manager.get("/api/v1/contacts", {"view": str(view.pk)}).json()["items"]) == 1
    # Not shared with marketers; a bad parameter is refused naming it; only its owner deletes
    assert "Norway" not in [
        v["name"] for v in api_client("marketer").get("/api/v1/views", {"entity": "contact"}).json()
    ]
    bad = api_client("seller").post(
        "/api/v1/views",
        json.dumps({"entity": "contact", "name": "Bad", "params": {"marketing_only": "perhaps"}}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "marketing_only" in bad.json()["error"]["fields"]
    assert manager.delete(f"/api/v1/views/{view.pk}").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_a_shared_my_leads_view_means_the_one_who_opens_it(ui_client, role_user):
    from leadcycle.users.services import user_set_role

    saver = role_user("seller")
    other = UserFactory(username="olga", role="seller")
    mine, theirs = LeadFactory(owner=saver), LeadFactory(owner=other)
    client = ui_client("seller")
    client.post("/leads/views/", {"name": "Mine, shared", "shared_role": "seller",
                                  "querystring": "view=mine"})  # fmt: skip
    view = SavedView.objects.get(name="Mine, shared")
    assert view.params == {"owner": "me", "status": "open"}
    client.force_login(other)
    page = client.get(f"/leads/?view={view.pk}").content.decode()
    assert f"/leads/{theirs.pk}/" in page and f"/leads/{mine.pk}/" not in page
    # A user with two roles sees views shared with either
    user_set_role(user=other, role="telemarketer")
    other.groups.add(*saver.groups.all())
    names = [v["name"] for v in client.get("/api/v1/views", {"entity": "lead"}).json()]
    assert "Mine, shared" in names


def test_saving_on_top_of_an_unknown_view_is_an_error_not_a_500(ui_client):
    answer = ui_client("seller").post("/leads/views/", {"name": "X", "querystring": "view=999"})
    assert answer.status_code == 302 and not SavedView.objects.filter(name="X").exists()
