"""SPEC §7/§8 end to end in Debian's chromium: the built-in orphan workflow switched on in the
UI; a lead without a contact created through the API gets a marketing-only contact, which the
Marketing view lists and the Sales view hides; qualifying the lead moves it into Sales."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Contact, Lead
from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import UserFactory
from leadcycle.users.services import api_token_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_orphan_lead_gets_a_contact_that_moves_from_marketing_to_sales(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    admin = UserFactory(username="ada", role="administrator")
    page = open_page()
    log_in(page, live_server.url, "ada", start="/workflows/")
    row = page.locator('tr[data-workflow="orphan_lead_contact"]')
    expect(row).to_contain_text("off")
    row.get_by_role("button", name="Switch on").click()
    expect(page.locator('tr[data-workflow="orphan_lead_contact"]')).to_contain_text("on")

    token = api_token_create(user=admin, name="browser").raw
    created = Client().post(
        "/api/v1/leads",
        json.dumps({"topic": "Demo request", "first_name": "Nora", "last_name": "Berg",
                    "email": "nora@fjord.example", "company_name": "Fjord Analytics"}),
        content_type="application/json", headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    lead = Lead.objects.get(pk=created.json()["id"])
    contact = Contact.objects.get(email="nora@fjord.example")
    assert lead.parent_contact == contact and contact.marketing_only

    page.goto(f"{live_server.url}/contacts/?view=marketing")
    expect(page.locator("#results")).to_contain_text("Nora Berg")
    page.locator("#list-views").get_by_role("link", name="Sales", exact=True).click()
    expect(page.locator('#list-views a[aria-current="page"]')).to_have_text("Sales")
    expect(page.locator("#results")).not_to_contain_text("Nora Berg")

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#lead-parent-contact")).to_contain_text("Nora Berg")
    page.get_by_role("link", name="Qualify").click()
    page.get_by_role("button", name="Qualify").click()
    expect(page.locator("body")).to_contain_text("Lead qualified.")

    page.goto(f"{live_server.url}/contacts/?view=sales")
    expect(page.locator("#results")).to_contain_text("Nora Berg")
    contact.refresh_from_db()
    assert contact.marketing_only is False
