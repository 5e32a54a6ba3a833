"""SPEC §3 end to end in Debian's chromium: the same person arrived twice (an import without a
phone, a form with another email); a marketer finds the pair in the duplicate review, keeps
the form's email, merges, sees the leads and history on one contact, then undoes the merge."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Contact, Lead
from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_merges_two_records_of_one_person_and_undoes_it(
    live_server: Any, open_page: Callable[..., Page]
) -> None:
    UserFactory(username="mia", role="marketer")
    ada = ContactFactory(
        first_name="Ada", last_name="Lovelace", email="ada@engines.example", phone=""
    )
    twin = ContactFactory(
        first_name="ada", last_name="LOVELACE", email="ada@home.example", phone="+46 70 1"
    )
    webinar = LeadFactory(parent_contact=twin, topic="Webinar: Analytics")
    page = open_page()
    log_in(page, live_server.url, "mia", start="/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
    group = page.locator(".duplicate-group").first
    expect(group).to_contain_text("Same first and last name")
    expect(group).to_contain_text("ada@home.example")
    group.get_by_role("link", name="Compare and merge").click()

    expect(page.locator("#merge-moves")).to_contain_text("1 leads")
    page.locator("#field-email").get_by_label("ada@home.example").check()
    expect(page.locator("#field-phone")).to_contain_text("fills a gap")
    page.get_by_role("button", name="Merge").click()

    expect(page.locator("body")).to_contain_text("Merged")
    expect(page.locator("#merge-moved")).to_contain_text("1 leads")
    page.get_by_role("link", name="Ada Lovelace").first.click()
    expect(page.locator("#contact-leads")).to_contain_text("Webinar: Analytics")
    expect(page.locator(".subtitle").first).to_contain_text("ada@home.example")
    expect(page.locator("#audit-trail")).to_contain_text("merged in")
    assert not Contact.objects.filter(pk=twin.pk).exists()

    page.go_back()
    page.get_by_role("button", name="Undo merge").click()
    expect(page.locator("#merge-status")).to_have_text("undone")
    page.get_by_role("link", name="is back").click()
    expect(page.locator("#contact-leads")).to_contain_text("Webinar: Analytics")
    assert Lead.objects.get(pk=webinar.pk).parent_contact_id == twin.pk
    assert Contact.objects.get(pk=ada.pk).email == "ada@engines.example"
