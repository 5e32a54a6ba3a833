"""Two leads walked from Inquiry to opportunity in Debian's chromium through Playwright: one
along the sales-ready path (skipping telemarketing), one along the telemarketing path."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Opportunity
from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page: Page) -> None:
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


def now_at(page: Page, stage: str) -> None:
    expect(page.locator("#process-stage")).to_contain_text(f"Now at {stage}")
    expect(page.locator('.chevrons li[aria-current="step"]')).to_have_text(stage)
    settled(page)


def open_stage(page: Page, stage: str) -> None:
    page.locator(".chevrons").get_by_role("link", name=stage, exact=True).click()
    expect(page.get_by_role("heading", name=stage, exact=True)).to_be_visible()
    settled(page)


def save(page: Page) -> None:
    page.locator("#process-bar").get_by_role("button", name="Save").click()


def accept_and_qualify(page: Page, seller_name: str, topic: str) -> None:
    page.get_by_label("Owner").select_option(label=seller_name)
    page.get_by_label("Sales accepted").check()
    save(page)
    expect(page.get_by_label("Sales accepted")).to_be_checked()
    settled(page)
    page.get_by_role("link", name="Qualify").click()
    page.get_by_label("Value").fill("25000")
    page.get_by_role("button", name="Qualify").click()
    expect(page.locator("h1")).to_contain_text(topic)
    expect(page.locator("body")).to_contain_text("Lead qualified.")


def test_two_leads_walk_to_opportunities(live_server: Any, open_page: Callable[..., Page]) -> None:
    UserFactory(username="maria", role="sales_manager")
    UserFactory(username="sven", role="seller")
    fast = LeadFactory(topic="Fleet tracking", parent_contact=ContactFactory(), campaign="Spring")
    slow = LeadFactory(topic="Warehouse robots", parent_contact=ContactFactory())
    page = open_page()
    log_in(page, live_server.url, "maria", start=f"/leads/{fast.pk}/")

    # Sales-ready path: marked sales-ready in marketing qualification, straight to sales
    now_at(page, "Inquiry")
    open_stage(page, "Automated marketing qualification")
    page.get_by_label("Sales ready").check()
    save(page)
    now_at(page, "Sales acceptance")
    page.locator("summary", has_text="Path so far").click()
    expect(page.locator("#process-history")).to_contain_text("straight to sales acceptance")
    expect(page.locator("#process-history")).not_to_contain_text("Telemarketing")
    accept_and_qualify(page, "sven", "Fleet tracking")
    opportunity = Opportunity.objects.get(lead=fast)
    assert (
        opportunity.campaign == "Spring" and opportunity.owner.username == "sven"
    )  # the accepted seller

    # Telemarketing path: telemarketing-ready, accepted, qualified by the call, sales-ready
    page.goto(f"{live_server.url}/leads/{slow.pk}/")
    open_stage(page, "Automated marketing qualification")
    page.get_by_label("Telemarketing ready").check()
    save(page)
    now_at(page, "Telemarketing acceptance")
    page.get_by_label("Accept telemarketing").check()
    save(page)
    now_at(page, "Telemarketing qualification")
    # "Next stage" without the required need: refused, the lead stays
    page.get_by_role("button", name="Next stage").click()
    expect(page.locator("#process-error")).to_contain_text("need")
    now_at(page, "Telemarketing qualification")
    page.get_by_label("Need").fill("Two warehouses, 2027")
    page.get_by_label("Sales ready").check()
    save(page)
    now_at(page, "Sales acceptance")
    accept_and_qualify(page, "sven", "Warehouse robots")
    assert Opportunity.objects.filter(lead=slow).exists()
    page.goto(f"{live_server.url}/leads/{slow.pk}/")
    expect(page.locator("#process-outcome")).to_have_text("qualified")
    page.locator("summary", has_text="Path so far").click()
    for stage in ("Inquiry", "Telemarketing acceptance", "Telemarketing qualification",
                  "Sales acceptance"):  # fmt: skip
        expect(page.locator("#process-history")).to_contain_text(stage)
