"""Marketing forms as people use them, in Debian's chromium driven by Playwright: a marketer
builds a form, a visitor fills it in on the hosted page, and the marketer sees what it did."""

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Contact, Lead
from leadcycle.intake.services import demo_forms_create, form_submit
from leadcycle.testing.browser import PHONE, log_in
from leadcycle.testing.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set LEADCYCLE_SCREENSHOTS=/some/dir to keep screenshots of the pages these tests visit.
SHOTS = os.environ.get("LEADCYCLE_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_marketer_builds_a_form_a_visitor_submits_it_and_the_contact_and_lead_appear(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    # Given a marketer
    UserFactory(username="mia", role="marketer")
    base = live_server.url
    page = open_page()

    # When she creates a form from the Forms page…
    log_in(page, base, "mia", start="/intake/forms/")
    page.get_by_role("link", name="New form").click()
    page.get_by_label(re.compile(r"^Name")).fill("Partner day signup")
    page.get_by_label("Address").fill("partner-day")
    page.get_by_label("Title").fill("Sign up for Partner day")
    page.get_by_label("Lead topic").fill("Partner day")
    page.get_by_label("Campaign").fill("Partner day 2026")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Partner day signup")
    page.evaluate("window.notReloaded = true")

    # …adds an email question filling contact.email in the builder…
    editor = page.locator("#field-editor")
    preview = page.locator("#preview")
    editor.get_by_label("Question").fill("Work email")
    # (the preview shows the question while she writes it, before it is saved)
    expect(preview).to_contain_text("not saved yet")
    expect(preview).to_contain_text("Work email")
    editor.get_by_label("Key").fill("email")
    editor.get_by_label("Type").select_option("email")
    editor.get_by_label("Required").check()
    editor.get_by_label("Fills the record field").select_option("contact.email")
    editor.get_by_role("button", name="Add question").click()
    expect(page.locator("#question-list")).to_contain_text("Work email")

    # …and a first-name question
    editor = page.locator("#field-editor")
    editor.get_by_label("Question").fill("First name")
    editor.get_by_label("Key").fill("first_name")
    editor.get_by_label("Fills the record field").select_option("contact.first_name")
    editor.get_by_role("button", name="Add question").click()

    # Then the list and the live preview show both questions, in order, without a reload
    expect(page.locator("#question-list li")).to_have_count(2)
    expect(preview.locator(".q label")).to_have_text(["Work email *", "First name"])
    expect(preview).not_to_contain_text("not saved yet")
    expect(page.locator("#curl-example")).to_contain_text('"first_name": "Ada"')
    assert page.evaluate("window.notReloaded") is True
    shot(page, "builder")

    # And moving "First name" up reorders the preview too; moving it back restores the order
    page.get_by_role("button", name="Move “First name” up").click()
    expect(preview.locator(".q label")).to_have_text(["First name", "Work email *"])
    page.get_by_role("button", name="Move “First name” down").click()
    expect(preview.locator(".q label")).to_have_text(["Work email *", "First name"])

    # When a visitor, not logged in, opens the hosted page and submits it
    visitor = open_page()
    visitor.goto(base + "/f/partner-day")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Sign up for Partner day")
    visitor.get_by_label("Work email").fill("Ada.Lindqvist@Example.com")
    visitor.get_by_label("First name").fill("Ada")
    visitor.get_by_role("button", name="Submit").click()
    expect(visitor.get_by_role("status")).to_have_text("Thank you! We will be in touch.")

    # Then the marketer sees the submission with "created" outcomes…
    page.get_by_role("link", name="Submissions").click()
    row = page.locator("#submission-table tbody tr").first
    expect(row).to_contain_text("accepted")
    expect(row.locator("td[data-label=Contact]")).to_contain_text("created")
    expect(row.locator("td[data-label=Lead]")).to_contain_text("created")
    expect(row.locator("td[data-label=Lead]")).to_contain_text("Partner day")
    shot(page, "submissions")

    # …and the new contact, with its lead, on the contact's page
    row.locator("td[data-label=Contact] a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada")
    leads = page.locator("#contact-leads")
    expect(leads).to_contain_text("Partner day")
    expect(leads).to_contain_text("Partner day 2026")
    shot(page, "contact")

    contact = Contact.objects.get(email_normalized="ada.lindqvist@example.com")
    assert Lead.objects.get().parent_contact == contact


def test_invalid_mapping_is_shown_at_the_mapping_in_the_builder(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    # Given the demo forms and a marketer on the webinar form's builder
    UserFactory(username="mia", role="marketer")
    form = demo_forms_create()[0]
    page = open_page()
    log_in(page, live_server.url, "mia", start=f"/intake/forms/{form.pk}/")

    # When she adds a text question that would fill contact.consent
    editor = page.locator("#field-editor")
    editor.get_by_label("Question").fill("Agree?")
    editor.get_by_label("Key").fill("agree")
    editor.get_by_label("Fills the record field").select_option("contact.consent")
    editor.get_by_role("button", name="Add question").click()

    # Then the builder says why, right below the mapping, and adds nothing
    mapping = page.locator("#question-field-maps_to")
    expect(mapping.locator(".errorlist")).to_have_text(
        "Only a consent checkbox can fill contact.consent."
    )
    expect(page.get_by_label("Key")).to_have_value("agree")
    expect(page.locator("#question-list li")).to_have_count(6)


def test_form_pages_fit_a_phone(live_server: Any, open_page: Callable[..., Page]) -> None:
    # Given the demo forms with a few submissions and a marketer on a phone
    UserFactory(username="mia", role="marketer")
    _webinar, sales = demo_forms_create()
    for n in range(3):
        form_submit(
            form=sales,
            raw={
                "email": f"buyer{n}@a-very-long-company-domain.example",
                "company": "Very Long Company Name International AB",
                "consent": "on",
                "message": "We need it. " * 20,
            },
        )
    page = open_page(viewport=PHONE)
    log_in(page, live_server.url, "mia", start="/intake/forms/")

    # When she opens the list, the builder, the submissions and the strategies
    for path, name in (
        ("/intake/forms/", "phone-forms"),
        (f"/intake/forms/{sales.pk}/", "phone-builder"),
        (f"/intake/forms/{sales.pk}/submissions/", "phone-submissions"),
        ("/intake/strategies/", "phone-strategies"),
    ):
        page.goto(live_server.url + path)
        shot(page, name)
        # Then nothing sticks out sideways
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        assert widths["scroll"] <= widths["inner"], (path, widths)

    # And on the builder the preview comes right after the questions
    page.goto(live_server.url + f"/intake/forms/{sales.pk}/")
    tops = page.evaluate(
        "['builder', 'preview', 'embed'].map(id => document.getElementById(id)"
        ".getBoundingClientRect().top)"
    )
    assert tops == sorted(tops), tops
    assert re.search(r"/f/contact-sales", page.locator("#embed").inner_text())
