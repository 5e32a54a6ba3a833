"""The seed's example built in the segment editor, in Debian's chromium through Playwright:
contacts with a lead whose topic is "Contoso Ltd Conference", narrowed to decision makers,
then to a group of countries."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page: Page) -> None:
    """Wait for the builder's redraw (if one is on its way) to land and be wired up: typing
    into inputs about to be replaced would be lost, as for a person typing that fast."""
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


def test_the_contoso_example_is_built_in_the_editor(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    UserFactory(username="mia", role="marketer")
    ada = ContactFactory(role="decision_maker", email="ada@example.com", country="NO")
    LeadFactory(parent_contact=ada, topic="Contoso Ltd Conference")
    cy = ContactFactory(role="decision_maker", email="cy@example.com", country="DE")
    LeadFactory(parent_contact=cy, topic="Contoso Ltd Conference")
    bob = ContactFactory(role="influencer", email="bob@example.com")
    LeadFactory(parent_contact=bob, topic="Contoso Ltd Conference")
    page = open_page()
    log_in(page, live_server.url, "mia", start="/segments/new/")
    page.get_by_label("Name").fill("Contoso decision makers")
    # Start from nothing: remove the example's rows
    page.get_by_role("button", name="Remove row 2", exact=True).click()
    expect(page.get_by_label("Row 2 field")).to_have_count(0)
    settled(page)
    page.get_by_role("button", name="Remove row 1", exact=True).click()
    expect(page.locator("#tree")).to_contain_text("every contact")
    settled(page)
    # Contacts with a lead on the conference: two of them
    page.get_by_role("button", name="+ has a lead").click()
    expect(page.get_by_role("button", name="Add a condition to row 1")).to_be_visible()
    settled(page)
    page.get_by_role("button", name="Add a condition to row 1").click()
    expect(page.get_by_label("Row 1 condition 1 field")).to_be_visible()
    settled(page)
    page.get_by_label("Row 1 condition 1 field").select_option("topic")
    settled(page)
    page.get_by_label("Row 1 condition 1 value").fill("Contoso Ltd Conference")
    expect(page.locator("#segment-count")).to_contain_text("3 contacts now")
    # …narrowed to decision makers: one
    page.get_by_role("button", name="+ contact field").click()
    expect(page.get_by_label("Row 2 field")).to_be_visible()
    settled(page)
    page.get_by_label("Row 2 field").select_option("role")
    settled(page)
    page.get_by_label("Row 2 value").fill("decision_maker")
    expect(page.locator("#segment-count")).to_contain_text("2 contacts now")
    # …in the Nordics: a group of any of two countries
    page.get_by_role("button", name="+ group").click()
    expect(page.get_by_label("Row 3 match")).to_have_value("any")
    settled(page)
    for n, country in ((1, "NO"), (2, "SE")):
        page.get_by_role("button", name="Add contact field to group 3").click()
        expect(page.get_by_label(f"Row 3.{n} field")).to_be_visible()
        settled(page)
        page.get_by_label(f"Row 3.{n} field").select_option("country")
        settled(page)
        page.get_by_label(f"Row 3.{n} value").fill(country)
    expect(page.locator("#segment-count")).to_contain_text("1 contact now")
    page.get_by_role("button", name="Save").last.click()
    page.get_by_role("button", name="Go live").click()
    expect(page.locator("#segment-status")).to_have_text("Live")
    expect(page.locator("#members")).to_contain_text("ada@example.com")
    expect(page.locator("#members")).not_to_contain_text("bob@example.com")
    expect(page.locator("#members")).not_to_contain_text("cy@example.com")
