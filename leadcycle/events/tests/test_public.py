"""The public registration page /e/<slug>/, the cancellation link and the public JSON API,
with their guards: bad input writes nothing but the rejected-attempt entry."""

import datetime
import json

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from leadcycle.crm.models import Contact, Interaction
from leadcycle.events.models import Registration, RejectedRegistration
from leadcycle.events.services import registration_create
from leadcycle.events.tests.conftest import person, written
from leadcycle.intake.services import HONEYPOT_FIELD
from leadcycle.intake.visitors import COOKIE, visitor_contact_id

pytestmark = pytest.mark.django_db
API = "/api/v1/public/events/{}/registrations"


def post_json(client, slug, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(API.format(slug), data, content_type="application/json", headers=headers)


def nothing_but_a_rejected_entry(before):
    after = written()
    assert after.pop("RejectedRegistration") == before.pop("RejectedRegistration") + 1
    assert after == before


# The page --------------------------------------------------------------------------------------


def test_the_page_registers_without_login_or_javascript_and_shows_the_cancel_link(
    client, make_event
):
    # Given a published event with 3 seats
    make_event(capacity=3)
    page = client.get("/e/summit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "3 seats left" in html and 'action="/e/summit/"' in html and "<script" not in html
    # When a visitor fills in the form
    done = client.post(
        "/e/summit/",
        {**person(0), "company": "Analytical Engines", "consent": "on"},
    )
    # Then they are registered, thanked, and given their cancellation link
    registration = Registration.objects.get()
    text = done.content.decode()
    assert done.status_code == 200 and "You are registered" in text
    assert f"/e/cancel/{registration.cancel_token}/" in text
    assert registration.contact.consent == "granted"
    # and the visitor is known from now on
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE] = done.cookies[COOKIE].value
    assert visitor_contact_id(request) == registration.contact_id
    assert "2 seats left" in client.get("/e/summit/").content.decode()


def test_the_page_says_when_the_visitor_joins_the_waitlist(client, make_event):
    event = make_event(capacity=1)
    registration_create(event=event, raw=person(1))
    page = client.get("/e/summit/").content.decode()
    assert "Join the waitlist" in page
    done = client.post("/e/summit/", person(0))
    assert "on the waitlist" in done.content.decode()
    assert Registration.objects.get(email="ada@example.com").status == "waitlisted"


def test_registering_again_on_the_page_does_not_reveal_the_cancel_link(client, make_event):
    event = make_event()
    first = registration_create(event=event, raw=person(0)).registration
    again = client.post("/e/summit/", person(0))
    text = again.content.decode()
    assert again.status_code == 200 and "already registered" in text
    assert first.cancel_token not in text
    assert Registration.objects.count() == 1


def test_errors_show_next_to_fields_keep_answers_and_write_nothing_else(client, make_event):
    make_event()
    before = written()
    page = client.post("/e/summit/", {"first_name": "Ada", "email": "not-an-email"})
    html = page.content.decode()
    assert page.status_code == 422
    assert 'id="error-email"' in html and "Enter a valid email address." in html
    assert 'id="error-last_name"' in html and "This field is required." in html
    assert 'value="Ada"' in html
    nothing_but_a_rejected_entry(before)
    rejected = RejectedRegistration.objects.get()
    assert rejected.channel == "page" and set(rejected.errors) == {"email", "last_name"}


def test_the_bot_trap_looks_like_success_but_registers_nobody(client, make_event):
    make_event()
    before = written()
    page = client.post("/e/summit/", {**person(0), HONEYPOT_FIELD: "http://spam.example"})
    assert page.status_code == 200 and "Thank you" in page.content.decode()
    nothing_but_a_rejected_entry(before)


def test_unknown_or_unpublished_events_are_404(client, make_event):
    assert client.get("/e/nope/").status_code == 404
    make_event(is_published=False)
    assert client.get("/e/summit/").status_code == 404
    assert client.post("/e/summit/", person(0)).status_code == 404
    assert not Registration.objects.exists()


def test_the_page_refuses_oversized_bodies_with_413(client, make_event):
    make_event()
    before = written()
    response = client.post("/e/summit/", {**person(0), "company": "x" * 70_000})
    assert response.status_code == 413
    assert written() == before


@override_settings(LEADCYCLE_INTAKE_RATE_LIMIT=2)
def test_the_page_is_rate_limited_per_client(client, make_event):
    make_event()
    for i in range(2):
        assert client.post("/e/summit/", person(i)).status_code == 200
    before = written()
    blocked = client.post("/e/summit/", person(2))
    assert blocked.status_code == 429 and blocked["Retry-After"] == "60"
    assert written() == before


def test_a_full_event_without_waitlist_refuses_on_the_page_with_409(client, make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    registration_create(event=event, raw=person(1))
    assert "fully booked" in client.get("/e/summit/").content.decode()
    response = client.post("/e/summit/", person(0))
    assert response.status_code == 409
    assert Registration.objects.count() == 1 and Contact.objects.count() == 1


def test_a_past_event_shows_registration_closed(client, make_event):
    start = timezone.now() - datetime.timedelta(days=3)
    make_event(starts_at=start, ends_at=start + datetime.timedelta(hours=3))
    assert "Registration has closed" in client.get("/e/summit/").content.decode()
    assert client.post("/e/summit/", person(0)).status_code == 409
    assert not Registration.objects.exists()


# The cancellation link -------------------------------------------------------------------------


def test_the_cancel_link_asks_first_then_cancels_and_promotes(client, make_event):
    # Given a full event with someone waiting
    event = make_event(capacity=1)
    seated = registration_create(event=event, raw=person(0)).registration
    waiting = registration_create(event=event, raw=person(1)).registration
    url = f"/e/cancel/{seated.cancel_token}/"
    # When the registrant opens their link, nothing happens yet
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Cancel my registration" in confirm.content.decode()
    assert Registration.objects.get(pk=seated.pk).status == "registered"
    # and when they confirm
    done = client.post(url)
    # Then they are cancelled and the waiting person has the seat
    assert done.status_code == 200 and "is cancelled" in done.content.decode()
    assert Registration.objects.get(pk=seated.pk).status == "cancelled"
    assert Registration.objects.get(pk=waiting.pk).status == "registered"
    assert Interaction.objects.filter(kind="event_cancelled").count() == 1
    # and the link now says so, and offers to register again
    assert "already cancelled" in client.get(url).content.decode()


def test_an_unknown_cancel_link_is_404(client, make_event):
    assert client.get("/e/cancel/not-a-token/").status_code == 404
    assert client.post("/e/cancel/not-a-token/").status_code == 404


# The JSON API ----------------------------------------------------------------------------------


def test_the_api_registers_with_201_and_returns_status_and_cancel_url(client, make_event):
    make_event(capacity=1)
    response = post_json(client, "summit", {**person(0), "consent": True})
    body = response.json()
    registration = Registration.objects.get()
    assert response.status_code == 201
    assert body["registration_id"] == registration.pk
    assert body["status"] == "registered" and body["created"] is True
    assert body["cancel_url"].endswith(f"/e/cancel/{registration.cancel_token}/")
    waitlisted = post_json(client, "summit", person(1)).json()
    assert waitlisted["status"] == "waitlisted"


def test_a_replayed_registration_answers_200_with_the_same_registration_and_no_link(
    client, make_event
):
    make_event()
    first = post_json(client, "summit", person(0)).json()
    again = post_json(client, "summit", person(0, email="ADA@example.com"))
    assert again.status_code == 200
    assert again.json()["registration_id"] == first["registration_id"]
    assert again.json()["created"] is False and "cancel_url" not in again.json()
    assert Registration.objects.count() == 1 and Contact.objects.count() == 1


def test_an_idempotency_key_replays_exactly_the_first_answer(client, make_event):
    make_event()
    first = post_json(client, "summit", person(0), **{"Idempotency-Key": "k-1"})
    again = post_json(client, "summit", person(0), **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["registration_id"] == first.json()["registration_id"]
    assert again.json()["cancel_url"] == first.json()["cancel_url"]
    assert Interaction.objects.filter(kind="event_registered").count() == 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"first_name": "Ada", "last_name": "Lovelace"}, "email", "required"),
        ({**person(0), "email": "ada-at-example"}, "email", "invalid_email"),
        ({**person(0), "last_name": ["Love", "lace"]}, "last_name", "invalid_type"),
        ({**person(0), "first_name": 42}, "first_name", "invalid_type"),
        ({**person(0), "consent": "maybe"}, "consent", "invalid_type"),
        ({**person(0), "answers": ["a"]}, "answers", "invalid_type"),
        ({**person(0), "nickname": "Ada"}, "nickname", "unknown_field"),
        ({**person(0), "company": "x" * 201}, "company", "too_long"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_only_the_rejected_entry(
    client, make_event, body, field, code
):
    make_event()
    before = written()
    response = post_json(client, "summit", body)
    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "validation_error"
    assert error["fields"][field]["code"] == code
    assert field in error["message"]
    nothing_but_a_rejected_entry(before)
    assert RejectedRegistration.objects.get().channel == "api"


def test_a_body_that_is_not_an_object_is_422_and_broken_json_400(client, make_event):
    make_event()
    before = written()
    listed = post_json(client, "summit", "[1, 2]")
    broken = post_json(client, "summit", "{not json")
    assert listed.status_code == 422 and listed.json()["error"]["fields"]["body"]
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    assert written() == before


def test_the_api_answers_404_for_unknown_or_unpublished_events(client, make_event):
    make_event("hidden", is_published=False)
    for slug in ("nope", "hidden"):
        response = post_json(client, slug, person(0))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "event_not_found"
    assert not Registration.objects.exists()


def test_the_api_refuses_a_full_event_with_409_event_full(client, make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    registration_create(event=event, raw=person(1))
    before = written()
    response = post_json(client, "summit", person(0))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_full"
    assert written() == before


def test_the_api_refuses_bodies_over_64_kb_with_413(client, make_event):
    make_event()
    before = written()
    response = post_json(client, "summit", {**person(0), "answers": {"essay": "x" * 70_000}})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert written() == before


@override_settings(LEADCYCLE_INTAKE_RATE_LIMIT=3)
def test_the_api_is_rate_limited_with_429(client, make_event):
    make_event()
    codes = [post_json(client, "summit", person(i)).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]
    assert Registration.objects.count() == 3


def test_the_api_bot_trap_answers_202_and_registers_nobody(client, make_event):
    make_event()
    before = written()
    response = post_json(client, "summit", {**person(0), HONEYPOT_FIELD: "x"})
    assert response.status_code == 202 and response.json()["registration_id"] is None
    nothing_but_a_rejected_entry(before)


def test_the_api_shows_a_published_event_and_its_free_seats(client, make_event):
    event = make_event(capacity=2)
    registration_create(event=event, raw=person(0))
    body = client.get("/api/v1/public/events/summit").json()
    assert body["name"] == "Nordic Data Summit" and body["seats_left"] == 1
    assert body["open"] is True and body["requires_email"] is True
    assert client.get("/api/v1/public/events/nope").status_code == 404


def test_the_api_cancels_by_the_link_token(client, make_event):
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    url = f"/api/v1/public/event-registrations/{registration.cancel_token}/cancel"
    response = client.post(url)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    missing = client.post("/api/v1/public/event-registrations/nope/cancel")
    assert missing.status_code == 404
