"""Staff pages and the staff API for events: who may do what, the event pages, registrations
(search, filter, pages, CSV), walk-ins, cancellation, and check-in from the phone screen and
the API."""

import csv
import datetime
import io
import json

import pytest
from django.utils import timezone

from leadcycle.crm.models import Interaction
from leadcycle.events.models import Event, Registration
from leadcycle.events.services import registration_check_in, registration_create
from leadcycle.events.tests.conftest import person

pytestmark = pytest.mark.django_db

# Who may do what with events (e) and registrations (r), written out on purpose instead of
# importing users.roles: v view, a add, c change, d delete.
# fmt: off
ALLOWED = {
    "marketer":      {"e": "vacd", "r": "vacd"},
    "telemarketer":  {"e": "v",    "r": "vc"},
    "seller":        {"e": "",     "r": ""},
    "sales_manager": {"e": "v",    "r": "v"},
    "administrator": {"e": "vacd", "r": "vacd"},
}
# fmt: on
ROLES = list(ALLOWED)


def may(role, what, action):
    return action in ALLOWED[role][what]


def event_data(**overrides):
    start = timezone.now() + datetime.timedelta(days=10)
    return {
        "name": "Analytics Meetup",
        "starts_at": start.isoformat(),
        "ends_at": (start + datetime.timedelta(hours=2)).isoformat(),
        "capacity": 2,
        **overrides,
    }


def post_json(client, url, body=None, method="post"):
    send = getattr(client, method)
    return send(url, json.dumps(body or {}), content_type="application/json")


# Pages: roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_event_pages_follow_the_role(ui_client, make_event, role):
    event = make_event()
    client = ui_client(role)
    expected = {
        "/events/": may(role, "e", "v"),
        f"/events/{event.pk}/": may(role, "e", "v"),
        "/events/new/": may(role, "e", "a"),
        f"/events/{event.pk}/edit/": may(role, "e", "c"),
        f"/events/{event.pk}/check-in/": may(role, "r", "v"),
        f"/events/{event.pk}/registrations.csv": may(role, "r", "v"),
    }
    got = {url: client.get(url).status_code for url in expected}
    assert got == {url: 200 if ok else 403 for url, ok in expected.items()}


@pytest.mark.parametrize("role", ROLES)
def test_check_in_and_cancel_on_the_pages_need_change_registration(ui_client, make_event, role):
    event = make_event()
    regs = [registration_create(event=event, raw=person(i)).registration for i in range(2)]
    client = ui_client(role)
    check_in = client.post(f"/events/{event.pk}/check-in/{regs[0].pk}/")
    cancel = client.post(f"/events/{event.pk}/registrations/{regs[1].pk}/cancel/")
    allowed = may(role, "r", "c")
    assert (check_in.status_code, cancel.status_code) == ((302, 302) if allowed else (403, 403))
    assert statuses(event) == (["checked_in", "cancelled"] if allowed else ["registered"] * 2)


def statuses(event):
    return list(event.registrations.order_by("id").values_list("status", flat=True))


def test_people_who_may_not_see_events_get_no_registration_data(ui_client, make_event):
    event = make_event()
    registration_create(event=event, raw=person(0))
    page = ui_client("seller").get(f"/events/{event.pk}/check-in/?q=ada")
    assert page.status_code == 403 and b"ada@example.com" not in page.content


# Pages: events ---------------------------------------------------------------------------------


def test_the_list_shows_upcoming_and_past_events_with_counts(ui_client, make_event):
    upcoming = make_event(capacity=1)
    start = timezone.now() - datetime.timedelta(days=30)
    make_event("old", name="Old Breakfast", starts_at=start, ends_at=start + datetime.timedelta(1))
    for i in range(3):
        registration_create(event=upcoming, raw=person(i))
    client = ui_client("marketer")
    page = client.get("/events/").content.decode()
    assert "Nordic Data Summit" in page and "Old Breakfast" not in page
    row = page[page.index("Nordic Data Summit") :]
    assert 'data-label="Registered" class="num">1 / 1' in row
    assert 'data-label="Waitlisted" class="num">2' in row
    past = client.get("/events/?when=past").content.decode()
    assert "Old Breakfast" in past and "Nordic Data Summit" not in past
    assert "Old Breakfast" in client.get("/events/?when=past&q=breakfast").content.decode()
    assert "No events match" in client.get("/events/?when=past&q=nordic").content.decode()
    assert client.get("/events/?when=soon").status_code == 400


def test_a_marketer_creates_an_event_and_lands_on_its_page(ui_client):
    client = ui_client("marketer")
    response = client.post(
        "/events/new/",
        {
            "name": "Data Day",
            "starts_at": "2030-05-01T09:00",
            "ends_at": "2030-05-01T17:00",
            "capacity": "50",
            "waitlist_enabled": "on",
            "registrant_matching": "email_and_name",
            "create_leads": "on",
            "is_published": "on",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/"
    assert (event.slug, event.capacity, event.registrant_matching) == (
        "data-day",
        50,
        "email_and_name",
    )
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert "/e/data-day/" in page and "No registrations yet" in page


def test_the_event_form_shows_errors_next_to_fields_and_saves_nothing(ui_client):
    client = ui_client("marketer")
    response = client.post(
        "/events/new/",
        {"name": "", "starts_at": "2030-05-01T09:00", "ends_at": "2030-04-01T09:00"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_ends_at_errors"' in html and "must not be before the start" in html
    assert 'id="id_name_errors"' in html
    assert not Event.objects.exists()


def test_editing_the_capacity_promotes_the_waitlist(ui_client, make_event):
    event = make_event(capacity=1)
    for i in range(3):
        registration_create(event=event, raw=person(i))
    client = ui_client("marketer")
    form = client.get(f"/events/{event.pk}/edit/").content.decode()
    assert 'value="Nordic Data Summit"' in form
    local = timezone.localtime(event.starts_at)
    response = client.post(
        f"/events/{event.pk}/edit/",
        {
            "name": event.name,
            "slug": event.slug,
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(event.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "capacity": "2",
            "waitlist_enabled": "on",
            "registrant_matching": "email",
            "create_leads": "on",
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    assert statuses(event) == ["registered", "registered", "waitlisted"]


def test_the_event_page_searches_filters_and_pages_registrations(ui_client, make_event):
    event = make_event(capacity=30)
    for i in range(30):
        registration_create(event=event, raw=person(i))
    registration_check_in(registration=Registration.objects.get(email="grace@example.com"), by=None)
    client = ui_client("sales_manager")
    first = client.get(f"/events/{event.pk}/").content.decode()
    assert "Page 1 of 2 · 30 registrations" in first
    searched = client.get(
        f"/events/{event.pk}/?q=grace", headers={"HX-Request": "true", "HX-Target": "registrations"}
    )
    html = searched.content.decode()
    assert "<html" not in html and "grace@example.com" in html and "ada@example.com" not in html
    filtered = client.get(f"/events/{event.pk}/?status=checked_in").content.decode()
    assert "1 registration" in filtered and "grace@example.com" in filtered
    second = client.get(f"/events/{event.pk}/?page=2").content.decode()
    assert "Page 2 of 2" in second
    assert client.get(f"/events/{event.pk}/?status=maybe").status_code == 400


def test_the_csv_export_has_every_registration_matching_the_filter(ui_client, make_event):
    event = make_event(capacity=1)
    registration_create(event=event, raw=person(0, company="=HYPERLINK(1)"))
    registration_create(event=event, raw=person(1))
    response = ui_client("marketer").get(f"/events/{event.pk}/registrations.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:5] == ["Registration id", "Status", "First name", "Last name", "Email"]
    assert [row[1] for row in rows[1:]] == ["registered", "waitlisted"]
    assert rows[1][5] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    waiting = ui_client("administrator").get(
        f"/events/{event.pk}/registrations.csv?status=waitlisted"
    )
    rows = list(csv.reader(io.StringIO(b"".join(waiting.streaming_content).decode())))
    assert len(rows) == 2 and rows[1][4] == "grace@example.com"


def test_an_event_with_registrations_is_not_deleted_from_its_page(ui_client, make_event):
    event = make_event()
    registration_create(event=event, raw=person(0))
    client = ui_client("marketer")
    response = client.post(f"/events/{event.pk}/delete/", follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Event.objects.filter(pk=event.pk).exists()


# Check-in screen -------------------------------------------------------------------------------


def test_the_phone_check_in_screen_renders_for_the_desk(ui_client, make_event):
    event = make_event()
    registration_create(event=event, raw=person(0))
    page = ui_client("telemarketer").get(f"/events/{event.pk}/check-in/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="viewport"' in html and 'type="search"' in html and "autofocus" in html
    assert 'class="checkin-btn"' in html and "Check in Ada Lovelace" in html
    assert "<b>0</b> of 1 checked in" in html
    assert "events/staff.css" in html


def test_the_check_in_search_finds_people_by_name_or_email_as_a_fragment(ui_client, make_event):
    event = make_event()
    for i in range(3):
        registration_create(event=event, raw=person(i))
    client = ui_client("telemarketer")
    by_name = client.get(f"/events/{event.pk}/check-in/?q=hop", headers={"HX-Request": "true"})
    html = by_name.content.decode()
    assert "<html" not in html and "Grace Hopper" in html and "Ada" not in html
    by_email = client.get(f"/events/{event.pk}/check-in/?q=alan@ex").content.decode()
    assert "Alan Turing" in by_email and "Grace Hopper" not in by_email
    nobody = client.get(f"/events/{event.pk}/check-in/?q=zzz").content.decode()
    assert "Nobody matches" in nobody


def test_checking_in_on_the_phone_records_the_interaction_time_and_desk(ui_client, make_event):
    # Given a registered person and the desk's check-in screen
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    client = ui_client("telemarketer")
    # When the desk taps "Check in" (htmx)
    before = timezone.now()
    response = client.post(
        f"/events/{event.pk}/check-in/{registration.pk}/", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    # Then the row shows the check-in with an undo, and the count goes up
    assert response.status_code == 200 and "✓ Checked in" in html and "Undo" in html
    assert 'id="checkin-count" hx-swap-oob="true"><b>1</b> of 1' in html
    registration.refresh_from_db()
    assert registration.status == "checked_in"
    assert registration.checked_in_at >= before
    assert registration.checked_in_by.username == "telemarketer-user"
    interaction = Interaction.objects.get(kind="event_checked_in")
    assert interaction.contact == registration.contact and interaction.lead == registration.lead
    assert interaction.attributes["event_id"] == event.pk
    # When the desk undoes it
    undo = client.post(
        f"/events/{event.pk}/check-in/{registration.pk}/undo/", headers={"HX-Request": "true"}
    )
    # Then the person is registered again and the check-in interaction is gone
    assert "Check in Ada Lovelace" in undo.content.decode()
    registration.refresh_from_db()
    assert registration.status == "registered" and registration.checked_in_at is None
    assert not Interaction.objects.filter(kind="event_checked_in").exists()


def test_check_in_works_without_javascript_and_keeps_the_search(ui_client, make_event):
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    client = ui_client("telemarketer")
    response = client.post(f"/events/{event.pk}/check-in/{registration.pk}/", {"q": "ada"})
    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.pk}/check-in/?q=ada"
    page = client.get(response["Location"]).content.decode()
    assert "Ada Lovelace checked in." in page


def test_a_waitlisted_person_shows_why_they_cannot_be_checked_in(ui_client, make_event):
    event = make_event(capacity=1)
    registration_create(event=event, raw=person(1))
    waiting = registration_create(event=event, raw=person(0)).registration
    client = ui_client("telemarketer")
    screen = client.get(f"/events/{event.pk}/check-in/?q=ada").content.decode()
    assert "Waitlisted" in screen and "Check in Ada Lovelace" not in screen
    response = client.post(
        f"/events/{event.pk}/check-in/{waiting.pk}/", headers={"HX-Request": "true"}
    )
    assert "on the waitlist" in response.content.decode()
    assert Registration.objects.get(pk=waiting.pk).status == "waitlisted"


def test_a_walk_in_is_registered_and_checked_in_from_the_desk(ui_client, make_event):
    event = make_event()
    client = ui_client("marketer")
    response = client.post(
        f"/events/{event.pk}/registrations/new/",
        {
            **person(0),
            "company": "Analytical Engines",
            "check_in": "on",
            "next": f"/events/{event.pk}/check-in/",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("/check-in/")
    registration = Registration.objects.get()
    assert registration.status == "checked_in" and registration.channel == "staff"
    assert Interaction.objects.filter(kind="event_checked_in").count() == 1


def test_a_walk_in_with_a_bad_email_is_reported_and_not_registered(ui_client, make_event):
    event = make_event()
    client = ui_client("marketer")
    response = client.post(
        f"/events/{event.pk}/registrations/new/", {**person(0), "email": "nope"}, follow=True
    )
    assert "Enter a valid email address." in response.content.decode()
    assert not Registration.objects.exists()


def test_the_telemarketer_may_not_register_walk_ins(ui_client, make_event):
    event = make_event()
    response = ui_client("telemarketer").post(f"/events/{event.pk}/registrations/new/", person(0))
    assert response.status_code == 403 and not Registration.objects.exists()


# Staff API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_api_follows_the_role_with_403_in_the_error_shape(api_client, make_event, role):
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    client = api_client(role)
    calls = {
        ("e", "v"): lambda: client.get("/api/v1/events?when=all"),
        ("e", "a"): lambda: post_json(client, "/api/v1/events", event_data()),
        ("e", "c"): lambda: post_json(
            client, f"/api/v1/events/{event.pk}", {"location": "Oslo"}, method="patch"
        ),
        ("r", "v"): lambda: client.get(f"/api/v1/events/{event.pk}/registrations"),
        ("r", "a"): lambda: post_json(
            client, f"/api/v1/events/{event.pk}/registrations", person(1)
        ),
        ("r", "c"): lambda: client.post(
            f"/api/v1/events/{event.pk}/registrations/{registration.pk}/check-in"
        ),
        ("e", "d"): lambda: client.delete(f"/api/v1/events/{make_event('spare').pk}"),
    }
    for (what, action), call in calls.items():
        response = call()
        if may(role, what, action):
            assert response.status_code in (200, 201, 204), (what, action, response.content)
        else:
            assert response.status_code == 403, (what, action)
            assert response.json()["error"]["code"] == "forbidden"


def test_the_api_creates_reads_changes_and_lists_events(api_client):
    client = api_client("marketer")
    created = post_json(client, "/api/v1/events", event_data(registrant_matching="name"))
    body = created.json()
    assert created.status_code == 201
    assert body["slug"] == "analytics-meetup" and body["public_url"] == "/e/analytics-meetup/"
    assert body["lead_topic"] == "" and body["registered_count"] == 0
    changed = post_json(client, f"/api/v1/events/{body['id']}", {"capacity": None}, method="patch")
    assert changed.status_code == 200 and changed.json()["capacity"] is None
    listed = client.get("/api/v1/events").json()
    assert [e["id"] for e in listed["items"]] == [body["id"]] and listed["count"] == 1
    assert client.get("/api/v1/events?when=past").json()["count"] == 0
    assert client.get(f"/api/v1/events/{body['id']}").json()["name"] == "Analytics Meetup"
    assert client.get("/api/v1/events/999999").status_code == 404


def test_the_api_refuses_bad_events_naming_the_field(api_client):
    client = api_client("marketer")
    backwards = post_json(
        client,
        "/api/v1/events",
        event_data(ends_at=(timezone.now() - datetime.timedelta(days=400)).isoformat()),
    )
    assert backwards.status_code == 422
    assert "ends_at" in backwards.json()["error"]["fields"]
    wrong = post_json(client, "/api/v1/events", event_data(capacity="many", colour="red"))
    assert wrong.status_code == 422
    assert {"capacity", "colour"} <= set(wrong.json()["error"]["fields"])
    assert not Event.objects.exists()


def test_the_api_checks_in_and_records_the_interaction_and_time(api_client, make_event):
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    client = api_client("telemarketer")
    url = f"/api/v1/events/{event.pk}/registrations/{registration.pk}/check-in"
    response = client.post(url)
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "checked_in" and body["checked_in_at"] is not None
    assert body["checked_in_by_id"] is not None
    assert (
        Interaction.objects.filter(kind="event_checked_in", contact=registration.contact).count()
        == 1
    )
    # a second tap records nothing more
    assert client.post(url).status_code == 200
    assert Interaction.objects.filter(kind="event_checked_in").count() == 1
    undone = client.post(url + "/undo").json()
    assert undone["status"] == "registered" and undone["checked_in_at"] is None


def test_the_api_refuses_to_check_in_a_cancelled_registration_with_409(api_client, make_event):
    event = make_event()
    registration = registration_create(event=event, raw=person(0)).registration
    client = api_client("marketer")
    base = f"/api/v1/events/{event.pk}/registrations/{registration.pk}"
    assert client.post(base + "/cancel").json()["status"] == "cancelled"
    refused = client.post(base + "/check-in")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "registration_cancelled"
    other = make_event("other")
    wrong_event = client.post(f"/api/v1/events/{other.pk}/registrations/{registration.pk}/check-in")
    assert wrong_event.status_code == 404


def test_the_api_lists_registrations_with_search_and_status(api_client, make_event):
    event = make_event(capacity=1)
    for i in range(3):
        registration_create(event=event, raw=person(i))
    client = api_client("sales_manager")
    waiting = client.get(f"/api/v1/events/{event.pk}/registrations?status=waitlisted").json()
    assert waiting["count"] == 2
    assert {r["email"] for r in waiting["items"]} == {"grace@example.com", "alan@example.com"}
    found = client.get(f"/api/v1/events/{event.pk}/registrations?q=turing").json()
    assert [r["last_name"] for r in found["items"]] == ["Turing"]
    bad = client.get(f"/api/v1/events/{event.pk}/registrations?status=maybe")
    assert bad.status_code == 422 and "status" in bad.json()["error"]["fields"]


def test_staff_register_walk_ins_through_the_api(api_client, make_event):
    event = make_event()
    client = api_client("marketer")
    url = f"/api/v1/events/{event.pk}/registrations"
    created = post_json(client, url, {**person(0), "check_in": True})
    again = post_json(client, url, person(0))
    assert created.status_code == 201 and created.json()["status"] == "checked_in"
    assert again.status_code == 200 and again.json()["created"] is False
    invalid = post_json(client, url, {**person(1), "email": "nope"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["fields"]["email"]["code"] == "invalid_email"
    assert Registration.objects.count() == 1
