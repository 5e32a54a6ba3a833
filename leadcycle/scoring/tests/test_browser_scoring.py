"""Scoring as a marketer uses it, in Debian's chromium through Playwright: she builds a model
in the editor (its live check answering as she types), takes it live, an interaction arrives
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

RULES = [
    {
        "name": "Decision makers",
        "points": 30,
        "conditions": [
            {
                "entity": "contact",
                "where": [{"field": "role", "op": "eq", "value": "decision_maker"}],
            }
        ],
    },
    {
        "name": "Each email click",
        "points": 25,
        "conditions": [{"entity": "interaction", "kind": "email_clicked", "frequency": "each"}],
    },
]


def test_a_model_built_in_the_editor_makes_a_lead_sales_ready(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    # Given a marketer and a decision maker's lead
    marketer = UserFactory(username="mia", role="marketer")
    ada = ContactFactory(first_name="Ada", role="decision_maker")
    lead = LeadFactory(parent_contact=ada, topic="Analytics Suite demo")
    page = open_page()
    log_in(page, live_server.url, "mia", start="/scoring/")

    # When she writes a model in the editor, seeing the check complain, then agree
    page.get_by_role("link", name="New model").click()
    page.get_by_label("Name").fill("Webinar model")
    page.get_by_label("Sales-ready score").fill("50")
    page.get_by_label("Rules").fill(
        '[{"name": "x", "points": 1, "conditions": [{"entity": "planet"}]}]'
    )
    expect(page.locator("#model-check")).to_contain_text("rules.0.conditions.0.entity")
    page.get_by_label("Rules").fill(json.dumps(RULES, indent=2))
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
