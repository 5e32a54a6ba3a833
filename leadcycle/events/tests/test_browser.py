"""The check-in screen on a phone, in Debian's chromium driven by Playwright: the desk logs
in, finds a person by typing, taps Check in, sees it counted, and undoes a mis-tap."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Interaction
from leadcycle.events.models import Registration
from leadcycle.events.services import registration_create
from leadcycle.events.tests.conftest import person
from leadcycle.testing.browser import PHONE, log_in
from leadcycle.testing.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(open_page: Callable[..., Page]) -> Callable[[], Page]:
    return lambda: open_page(viewport=PHONE, is_mobile=True, has_touch=True)


def test_the_desk_checks_people_in_on_a_phone(
    live_server: Any, phone: Callable[[], Page], make_event: Any
) -> None:
    # Given an event with two registered people and a telemarketer at the door
    event = make_event()
    for i in range(2):
        registration_create(event=event, raw=person(i))
    UserFactory(username="desk", role="telemarketer")
    page = phone()
    start = f"/events/{event.pk}/check-in/"

    # When she opens the check-in screen on her phone
    log_in(page, live_server.url, "desk", start=start)
    count = page.locator("#checkin-count")
    expect(count).to_contain_text("0 of 2 checked in")
    # the screen fits the phone: no sideways scrolling, a thumb-sized button
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    button = page.get_by_role("button", name="Check in Grace Hopper")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300

    # …types part of a name, and only that person is left on the screen
    page.get_by_role("searchbox").fill("hop")
    expect(page.get_by_role("button", name="Check in Ada Lovelace")).to_have_count(0)
    expect(page.locator(".checkin-row")).to_have_count(1)

    # …and taps Check in
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Check in Grace Hopper").tap()

    # Then the row says so and the count goes up, without a page load
    expect(page.locator(".checkin-row")).to_contain_text("Checked in")
    expect(count).to_contain_text("1 of 2 checked in")
    assert page.evaluate("window.notReloaded") is True
    grace = Registration.objects.get(email="grace@example.com")
    assert grace.status == "checked_in" and grace.checked_in_by.username == "desk"
    assert Interaction.objects.filter(kind="event_checked_in").count() == 1

    # When she taps Undo (a mis-tap)
    page.get_by_role("button", name="Undo check-in of Grace Hopper").tap()

    # Then Grace is waiting again
    expect(page.get_by_role("button", name="Check in Grace Hopper")).to_be_visible()
    expect(count).to_contain_text("0 of 2 checked in")
    assert Registration.objects.get(email="grace@example.com").status == "registered"
