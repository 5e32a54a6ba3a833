"""The tracking script in a real browser (Debian's chromium through Playwright): a visitor
browses a company site that embeds it, then submits the site's embedded form; the visits
become the new contact's."""

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page

from leadcycle.crm.models import Contact, Interaction
from leadcycle.intake.models import MarketingForm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def company_site(live_server: Any) -> Iterator[str]:
    """A company's website on its own loopback origin, every page embedding Leadcycle's
    tracking script the way the Tracking page says."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                f"<!doctype html><title>Example {self.path}</title><h1>{self.path}</h1>"
                f'<script src="{live_server.url}/t.js" async></script>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_visits_on_a_site_with_the_script_join_the_contact_after_a_form(
    live_server: Any,
    company_site: str,
    open_page: Callable[..., Page],
    make_form: Callable[..., MarketingForm],
) -> None:
    # Given a company site embedding the tracking script, and a form it may submit
    make_form(allowed_origins=company_site)
    page = open_page()
    # When a visitor reads two pages
    for path in ("/", "/pricing"):
        page.goto(company_site + path)
        page.wait_for_function("window.leadcycle && window.leadcycle.visitorId")
    visitor = page.evaluate("window.leadcycle.visitorId")
    assert visitor == page.evaluate("localStorage.getItem('lc_vid')")  # kept on the site
    _wait_for(lambda: Interaction.objects.filter(visitor_id=visitor).count() == 2)
    assert Interaction.objects.filter(visitor_id=visitor, contact=None).count() == 2
    # And then submits the site's form, which sends the visitor id along
    status = page.evaluate(
        """async ([url, visitor]) => {
            const response = await fetch(url, {
                method: "POST",
                headers: {"Content-Type": "application/json", "Leadcycle-Visitor": visitor},
                body: JSON.stringify({email: "grace@example.com", first_name: "Grace"}),
            });
            return response.status;
        }""",
        [f"{live_server.url}/api/v1/public/forms/webinar/submissions", visitor],
    )
    # Then both visits, with their addresses and titles, are Grace's
    assert status == 201
    grace = Contact.objects.get(email_normalized="grace@example.com")
    visits = Interaction.objects.filter(kind="website_visited").order_by("id")
    assert [(v.contact_id, v.attributes["url"], v.attributes["title"]) for v in visits] == [
        (grace.pk, f"{company_site}/", "Example /"),
        (grace.pk, f"{company_site}/pricing", "Example /pricing"),
    ]


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the visits"
        time.sleep(0.1)
