"""Public tracking: website visits (anonymous until the visitor is known), the tracking
script, email opens and clicks through signed URLs."""

import json

import pytest
from django.test import Client, override_settings

from leadcycle.crm.models import Contact, Interaction
from leadcycle.intake.visitors import ANONYMOUS_COOKIE, COOKIE
from leadcycle.interactions.public_views import PIXEL
from leadcycle.interactions.services import tracked_links
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db
TRACK = "/api/v1/public/track"
VISITOR = "a1b2c3d4e5f6a7b8c9d0"


def track(client, body, **extra):
    # The script sends text/plain so that browsers need no preflight.
    return client.post(TRACK, json.dumps(body), content_type="text/plain", **extra)


def test_anonymous_visits_join_the_contact_who_then_submits_a_form(make_form):
    # Given a visitor on the company's site, not known yet
    site = Client()
    for page in ("https://www.example.com/", "https://www.example.com/pricing"):
        response = track(site, {"url": page, "title": "Example", "visitor_id": VISITOR})
        assert response.status_code == 202 and response.json() == {
            "visitor_id": VISITOR,
            "known": False,
        }
    assert Interaction.objects.filter(visitor_id=VISITOR, contact=None).count() == 2
    # When the same browser submits an embedded form, naming its visitor id
    make_form()
    submitted = site.post(
        "/api/v1/public/forms/webinar/submissions",
        json.dumps({"email": "ada@example.com"}),
        content_type="application/json",
        headers={"Leadcycle-Visitor": VISITOR},
    )
    assert submitted.status_code == 201
    # Then the earlier visits are hers
    ada = Contact.objects.get(email_normalized="ada@example.com")
    visits = Interaction.objects.filter(kind="website_visited")
    assert [v.contact_id for v in visits] == [ada.pk, ada.pk]
    assert {v.attributes["url"] for v in visits} == {
        "https://www.example.com/",
        "https://www.example.com/pricing",
    }


def test_the_hosted_page_identifies_the_visitor_by_the_anonymous_cookie(make_form):
    make_form()
    browser = Client()
    first = track(browser, {"url": "https://go.example.com/landing"})
    visitor = first.json()["visitor_id"]
    assert first.cookies[ANONYMOUS_COOKIE].value == visitor  # kept for this browser
    browser.post("/f/webinar", {"email": "bob@example.com"})
    bob = Contact.objects.get(email_normalized="bob@example.com")
    assert Interaction.objects.get(kind="website_visited").contact == bob


def test_a_known_visitor_is_credited_at_once():
    ada = ContactFactory()
    browser = Client()
    # The known-visitor cookie a form submission sets
    from django.http import HttpResponse

    from leadcycle.intake.visitors import remember_visitor

    response = HttpResponse()
    remember_visitor(response, ada.pk)
    browser.cookies[COOKIE] = response.cookies[COOKIE].value
    answer = track(browser, {"url": "https://www.example.com/docs"})
    assert answer.json()["known"] is True
    assert Interaction.objects.get().contact == ada


def test_a_forged_visitor_cookie_counts_as_anonymous():
    ada = ContactFactory()
    browser = Client()
    browser.cookies[COOKIE] = f"{ada.pk}:forged"
    assert track(browser, {"url": "https://www.example.com/"}).json()["known"] is False
    assert Interaction.objects.get().contact is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (json.dumps({"title": "no url"}).encode(), 422, "validation_error"),
        (json.dumps({"url": "javascript:alert(1)"}).encode(), 422, "validation_error"),
        (json.dumps({"url": "https://x.example/" + "a" * 20_000}).encode(), 413, "too_large"),
    ],
)
def test_bad_page_views_are_refused_and_nothing_is_recorded(body, status, code):
    response = Client().post(TRACK, body, content_type="text/plain")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Interaction.objects.count() == 0


@override_settings(LEADCYCLE_TRACKING_RATE_LIMIT=3)
def test_page_views_are_rate_limited_per_address():
    site = Client()
    statuses = [track(site, {"url": "https://www.example.com/"}).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    assert Interaction.objects.count() == 3


def test_the_tracking_script_is_served_without_login():
    response = Client().get("/t.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    script = response.content.decode()
    assert "http://testserver/api/v1/public/track" in script and "sendBeacon" in script


def test_an_email_open_and_a_click_record_interactions_and_the_click_redirects(api_client):
    ada = ContactFactory()
    lead = LeadFactory(parent_contact=ada)
    made = api_client("marketer").post(
        "/api/v1/tracking/links",
        json.dumps(
            {
                "contact_id": ada.pk,
                "url": "https://www.example.com/pricing?plan=pro",
                "message": "November newsletter",
                "lead_id": lead.pk,
                "campaign": "Newsletter",
            }
        ),
        content_type="application/json",
    )
    assert made.status_code == 201
    links = made.json()
    reader = Client()
    pixel = reader.get(links["open_pixel_url"])
    assert pixel.status_code == 200 and pixel.content == PIXEL
    assert pixel["Content-Type"] == "image/gif"
    click = reader.get(links["click_url"])
    assert click.status_code == 302
    assert click["Location"] == "https://www.example.com/pricing?plan=pro"
    opened = Interaction.objects.get(kind="email_opened")
    clicked = Interaction.objects.get(kind="email_clicked")
    assert (opened.contact, opened.lead, opened.campaign) == (ada, lead, "Newsletter")
    assert clicked.attributes == {
        "message": "November newsletter",
        "url": "https://www.example.com/pricing?plan=pro",
    }


def test_an_altered_click_link_goes_nowhere_and_records_nothing():
    ada = ContactFactory()
    links = tracked_links(contact_id=ada.pk, url="https://www.example.com/", message="m")
    token = links.click_path.removeprefix("/t/c/")
    # Swap in another target: the signature no longer fits
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = Client().get(f"/t/c/{forged}")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    pixel = Client().get(f"/t/o/{forged}.gif")
    assert pixel.status_code == 200 and pixel.content == PIXEL  # an image either way
    assert Interaction.objects.count() == 0


def test_tracked_links_need_a_real_contact_and_an_http_url(api_client):
    ada = ContactFactory()
    client = api_client("marketer")

    def make(body):
        return client.post(
            "/api/v1/tracking/links", json.dumps(body), content_type="application/json"
        )

    bad_url = make({"contact_id": ada.pk, "url": "javascript:alert(1)", "message": "m"})
    assert bad_url.status_code == 422 and "url" in bad_url.json()["error"]["fields"]
    nobody = make({"contact_id": ada.pk + 99, "url": "https://x.example/", "message": "m"})
    assert nobody.status_code == 422 and "contact_id" in nobody.json()["error"]["fields"]
    seller = api_client("seller").post(
        "/api/v1/tracking/links",
        json.dumps({"contact_id": ada.pk, "url": "https://x.example/", "message": "m"}),
        content_type="application/json",
    )
    assert seller.status_code == 403
