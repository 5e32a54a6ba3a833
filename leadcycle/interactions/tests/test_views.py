"""The staff pages: interactions list, custom kinds, tracking setup; each checks the role."""

import pytest

from leadcycle.crm.models import Interaction
from leadcycle.interactions.models import InteractionKind
from leadcycle.interactions.services import interaction_record
from leadcycle.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_what_contacts_did_and_anonymous_visitors(ui_client):
    ada = ContactFactory(first_name="Ada", last_name="Lovelace")
    interaction_record(kind="email_clicked", contact_id=ada.pk, campaign="Spring")
    interaction_record(
        kind="website_visited",
        contact_id=None,
        visitor_id="anon12345678",
        attributes={"url": "https://www.example.com/pricing"},
    )
    client = ui_client("seller")
    page = client.get("/interactions/").content.decode()
    assert "Email clicked" in page and "Ada Lovelace" in page and "Spring" in page
    assert "anonymous visitor" in page and "https://www.example.com/pricing" in page
    only_anonymous = client.get("/interactions/?anonymous=true").content.decode()
    assert "Ada Lovelace" not in only_anonymous and "anonymous visitor" in only_anonymous
    assert 'href="/interactions/"' in client.get("/").content.decode()  # in the navigation


def test_an_administrator_registers_a_kind_on_the_kinds_page(ui_client):
    admin = ui_client("administrator")
    made = admin.post("/interactions/kinds/", {"key": "trial_started", "label": "Trial started"})
    assert made.status_code == 302
    assert "trial_started" in admin.get("/interactions/kinds/").content.decode()
    clash = admin.post("/interactions/kinds/", {"key": "email_opened", "label": "Mine"})
    assert clash.status_code == 422 and "is a built-in kind" in clash.content.decode()
    assert InteractionKind.objects.count() == 1


def test_a_marketer_sees_the_kinds_but_cannot_register_or_remove_them(ui_client):
    InteractionKind.objects.create(key="trial_started", label="Trial started")
    marketer = ui_client("marketer")
    page = marketer.get("/interactions/kinds/").content.decode()
    assert "trial_started" in page and 'id="kind-form"' not in page
    assert marketer.post("/interactions/kinds/", {"key": "x_y", "label": "X"}).status_code == 403
    assert marketer.post("/interactions/kinds/trial_started/delete/").status_code == 403
    assert InteractionKind.objects.count() == 1


def test_a_used_kind_is_not_removed(ui_client):
    InteractionKind.objects.create(key="trial_started", label="Trial started")
    interaction_record(kind="trial_started", contact_id=ContactFactory().pk)
    response = ui_client("administrator").post("/interactions/kinds/trial_started/delete/")
    assert response.status_code == 409 and "cannot be removed" in response.content.decode()
    assert InteractionKind.objects.count() == 1


def test_a_marketer_makes_tracked_links_for_an_email(ui_client):
    ada = ContactFactory()
    marketer = ui_client("marketer")
    page = marketer.get("/interactions/tracking/").content.decode()
    assert "http://testserver/t.js" in page
    made = marketer.post(
        "/interactions/tracking/",
        {"contact_id": ada.pk, "url": "https://www.example.com/", "message": "Welcome"},
    )
    html = made.content.decode()
    assert made.status_code == 200 and "http://testserver/t/c/" in html and "/t/o/" in html
    wrong = marketer.post(
        "/interactions/tracking/",
        {"contact_id": ada.pk + 50, "url": "https://x.example/", "message": "m"},
    )
    assert wrong.status_code == 422 and f"No contact {ada.pk + 50}" in wrong.content.decode()


def test_a_seller_sees_the_snippet_but_makes_no_links(ui_client):
    seller = ui_client("seller")
    page = seller.get("/interactions/tracking/").content.decode()
    assert "t.js" in page and 'id="links-form"' not in page
    response = seller.post(
        "/interactions/tracking/", {"contact_id": 1, "url": "https://x.example/", "message": "m"}
    )
    assert response.status_code == 403
    assert Interaction.objects.count() == 0


def test_pages_need_a_login(client):
    for path in ("/interactions/", "/interactions/kinds/", "/interactions/tracking/"):
        assert client.get(path)["Location"].startswith("/login/")
