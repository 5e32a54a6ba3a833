"""An import as a marketer runs it, in Debian's chromium through Playwright: she uploads a
small file, checks the suggested mapping, dry-runs it, imports it, and downloads the rejected
row; a running import's progress bar moves on its own."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from leadcycle.crm.models import Contact, Lead
from leadcycle.imports.models import ImportJob
from leadcycle.testing.browser import log_in
from leadcycle.testing.factories import ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "E-mail,First Name,Company,Topic\n"
    "ADA@example.com ,Ada,Analytical Engines,Demo request\n"
    "grace@navy.mil,Grace,US Navy,Pricing\n"
    "not-an-email,Nobody,Nowhere,Trial\n"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_small_file_goes_through_the_wizard(
    live_server: Any, open_page: Callable[..., Page], tmp_path: Path, media: None
) -> None:
    # Given a marketer, and Ada already a contact
    UserFactory(username="mia", role="marketer")
    ada = ContactFactory(email="ada@example.com", first_name="Ada")
    source = tmp_path / "fair.csv"
    source.write_text(FILE, encoding="utf-8")
    page = open_page()
    log_in(page, live_server.url, "mia", start="/imports/")

    # When she uploads the file as leads
    page.get_by_role("link", name="New import").click()
    page.get_by_label("File (CSV or XLSX)").set_input_files(str(source))
    page.get_by_label("The rows are").select_option("leads")
    page.get_by_role("button", name="Upload and map columns").click()
    # Then the columns are mapped from their headers, with the first rows beside them
    expect(page.get_by_label("E-mail")).to_have_value("contact.email")
    expect(page.get_by_label("Company")).to_have_value("account.name")
    expect(page.locator("#columns")).to_contain_text("grace@navy.mil")

    # When she tries it: nothing is written, one row would be rejected
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#dry-run-counts")).to_contain_text(
        "would create 2, update 0, leave 0 unchanged and reject 1"
    )
    expect(page.locator("#progress")).to_contain_text("Row 4, E-mail")
    assert not Lead.objects.exists()

    # And imports it
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.locator("#import-status")).to_have_text("Done")
    expect(page.locator("#progress-text")).to_contain_text("3 of 3 rows (100%)")
    expect(page.locator("#import-counts")).to_contain_text("Rejected")
    expect(page.locator("#rejected")).to_contain_text("is not an email address")
    # Then Ada's lead is hers, Grace is a new marketing-only contact, and the bad row waits
    assert Lead.objects.get(topic="Demo request").parent_contact == ada
    assert Contact.objects.get(email="grace@navy.mil").marketing_only
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert rejected[0] == "E-mail,First Name,Company,Topic,Row,Reason"
    assert rejected[1].startswith("not-an-email,Nobody,Nowhere,Trial,4,E-mail:")


def test_a_running_imports_progress_bar_moves_without_reloading(
    live_server: Any, open_page: Callable[..., Page], tmp_path: Path, media: None
) -> None:
    UserFactory(username="mia", role="marketer")
    job = ImportJob.objects.create(
        entity="leads",
        file_name="big.csv",
        file_sha256="0" * 64,
        file_format="csv",
        headers=["Email"],
        mapping=["contact.email"],
        status="running",
        rows_total=1000,
        rows_done=200,
    )
    page = open_page()
    log_in(page, live_server.url, "mia", start=f"/imports/{job.pk}/")
    bar = page.locator("#import-progress")
    expect(bar).to_have_attribute("value", "200")
    # As the worker commits batches, the page follows (it asks every second)
    ImportJob.objects.filter(pk=job.pk).update(rows_done=600, created=600)
    expect(bar).to_have_attribute("value", "600")
    expect(page.locator("#progress-text")).to_contain_text("600 of 1000 rows (60%)")
    ImportJob.objects.filter(pk=job.pk).update(rows_done=1000, created=1000, status="done")
    expect(page.locator("#progress")).to_contain_text("Summary")
    expect(page.locator("#progress")).not_to_have_attribute("hx-trigger", "every 1s")
