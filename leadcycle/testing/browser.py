"""Browser tests: Debian's chromium driven by Playwright (never ``playwright install``).

Loaded for the whole suite by the root ``conftest.py``. Tests ask for ``open_page`` and use
``log_in``; a machine without ``/usr/bin/chromium`` skips them.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-for-tests-123"  # the factories' password
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread, so Django's ORM (used by the
    # factories) must be told that synchronous calls here are fine.
    added = "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()
    if added:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``open_page(viewport=PHONE, **context_options)`` → a page in a fresh context (its own
    cookies, so anonymous until it logs in); every context closes after the test."""
    contexts = []

    def make(viewport: dict[str, int] = LAPTOP, **options: Any) -> Page:
        context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, base_url: str, username: str, *, start: str = "/") -> None:
    """Open ``start`` while logged out, and log in on the login page it leads to."""
    page.goto(base_url + start)
    assert urlsplit(page.url).path == "/login/"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + start)
