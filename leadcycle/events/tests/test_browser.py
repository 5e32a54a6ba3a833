"""The check-in screen on a phone, in Debian's chromium driven by Playwright: the desk logs
in, finds a person by typing, taps Check in, sees it counted, and undoes a mis-tap."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from leadcycle.crm.models import Interaction
from leadcycle.events.models import Registration
from leadcycle.events.services import registration_create
from leadcycle.events.tests.conftest import person
from leadcycle.testing.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-for-tests-123"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are fine.
    added = "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    if added:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Callable[[], Page]]:
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, base_url: str, username: str, *, start: str) -> None:
    page.goto(base_url + start)
    assert urlsplit(page.url).path == "/login/"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + start)


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
