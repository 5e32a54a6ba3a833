"""Scoring as a marketer uses it, in Debian's chromium through Playwright: she builds a model
in the rule builder (its live check answering next to each input as she types), takes it live, an interaction arrives
through the API, and the lead turns sales-ready on its page, its score explained."""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Lead
from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory
from leadcycle.users.services import api_token_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page: Page) -> None:
    """htmx wires up swapped-in inputs when they settle (a few milliseconds after the swap); a
    person cannot act faster than that, Playwright can."""
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


def test_a_model_built_in_the_editor_makes_a_lead_sales_ready(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    # Given a marketer and a decision maker's lead
    marketer = UserFactory(username="mia", role="marketer")
    ada = ContactFactory(first_name="Ada", role="decision_maker")
    lead = LeadFactory(parent_contact=ada, topic="Analytics Suite demo")
    page = open_page()
    log_in(page, live_server.url, "mia", start="/scoring/")

    # When she builds a model in the editor, starting from the example rules
    page.get_by_role("link", name="New model").click()
    page.get_by_label("Name", exact=True).fill("Webinar model")
    page.get_by_label("Sales-ready score").fill("50")
    expect(page.get_by_label("Rule 1 name")).to_have_value("Decision makers")
    # …a typo is pointed at next to the input, and the message goes once it is fixed
    page.get_by_label("Rule 2 points").fill("2x")
    expect(page.locator("#err-rule-1-points")).to_contain_text("whole number")
    page.get_by_label("Rule 2 points").fill("25")
    expect(page.locator("#model-check")).to_contain_text("The rules compile.")
    expect(page.locator("#err-rule-1-points")).to_be_empty()
    # …the email-click rule counts every click, at any time
    page.get_by_label("Rule 2 condition 1 in the last … days").fill("")
    # …she adds a rule on interactions, picks its kind, then thinks better of it
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_label("Rule 3 name")).to_be_visible()
    settled(page)
    page.get_by_label("Rule 3 condition 1 on").select_option("interaction")
    expect(page.get_by_label("Rule 3 condition 1 kind")).to_be_visible()
    settled(page)
    page.get_by_label("Rule 3 condition 1 kind").select_option("form_submitted")
    settled(page)
    page.get_by_role("button", name="Add an expression to rule 3 condition 1").click()
    expect(page.get_by_label("Rule 3 condition 1 expression 1 field")).to_have_value("campaign")
    settled(page)
    page.get_by_label("Rule 3 name").fill("Forms")
    expect(page.locator("#model-check")).to_contain_text("Rule 3, condition 1, expression 1")
    page.get_by_role("button", name="Remove rule 3", exact=True).click()
    expect(page.get_by_label("Rule 3 name")).to_have_count(0)
    expect(page.locator("#model-check")).to_contain_text("The rules compile.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#model-status")).to_have_text("Draft")
    # …and takes it live: the lead is scored at once (30), not yet sales-ready
    page.get_by_role("button", name="Go live").click()
    expect(page.locator("#model-status")).to_have_text("Live")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#lead-scores")).to_contain_text("30")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("sales-ready")

    # When an email click arrives through the ingestion API
    token = api_token_create(user=marketer, name="esp").raw
    api = Client(headers={"Authorization": f"Bearer {token}"})
    sent = api.post(
        "/api/v1/interactions",
        json.dumps({"kind": "email_clicked", "email": ada.email}),
        content_type="application/json",
    )
    assert sent.status_code == 201

    # Then the lead is sales-ready, and its page says why
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("sales-ready")
    scores = page.locator("#score-model-" + str(lead.scores.get().model_id))
    expect(scores).to_contain_text("55")
    expect(scores.locator("tr", has_text="Each email click")).to_contain_text(
        re.compile(r"1\s*25\s*25")
    )
    assert Lead.objects.get(pk=lead.pk).sales_ready
