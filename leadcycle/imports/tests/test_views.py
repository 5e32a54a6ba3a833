"""The import wizard's pages as a marketer uses them (without a browser): upload, map,
dry run, import, summary and the rejected rows; other roles kept out."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadcycle.crm.models import Lead
from leadcycle.imports.models import ImportJob, MappingTemplate

pytestmark = pytest.mark.django_db

FILE = b"Work Email;Organisation;Interest\nada@example.com;Engines;Demo\noops;X;Demo\n"


def test_the_wizard_uploads_maps_dry_runs_and_imports(
    ui_client, django_capture_on_commit_callbacks
):
    marketer = ui_client("marketer")
    assert "New import" in marketer.get("/imports/").content.decode()
    uploaded = marketer.post(
        "/imports/new/", {"file": SimpleUploadedFile("fair.csv", FILE), "entity": "leads"}
    )
    job = ImportJob.objects.get()
    assert uploaded.status_code == 302 and uploaded["Location"] == f"/imports/{job.pk}/"
    page = marketer.get(f"/imports/{job.pk}/").content.decode()
    # Suggested, with the first rows to check against
    assert '<option value="account.name" selected>' in page and "ada@example.com · oops" in page
    assert '<option value="contact.email" selected>' in page  # "Work Email"
    assert '<option value="lead.topic" selected>' in page  # "Interest"
    mapping = {
        "column-0": "contact.email",
        "column-1": "account.name",
        "column-2": "lead.topic",
        "on_match": "update",
        "create_missing": "on",
        "lead_strategy": "always",
    }
    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"/imports/{job.pk}/", {**mapping, "action": "dry-run"})
    page = marketer.get(f"/imports/{job.pk}/").content.decode()
    assert "would create <b>1</b>" in page and "reject <b>1</b>" in page
    assert "Row 3, Work Email: &#x27;oops&#x27; is not an email address." in page
    assert not Lead.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        started = marketer.post(f"/imports/{job.pk}/", {**mapping, "action": "run"})
    assert started.status_code == 302
    summary = marketer.get(f"/imports/{job.pk}/").content.decode()
    assert (
        'id="import-progress" value="2" max="2"' in summary and "Download the rejected" in summary
    )
    assert Lead.objects.get().parent_contact.email == "ada@example.com"
    report = b"".join(marketer.get(f"/imports/{job.pk}/errors.csv").streaming_content)
    assert "oops;X;Demo" not in report.decode("utf-8-sig")  # written as CSV, comma-separated
    assert report.decode("utf-8-sig").splitlines()[1].startswith("oops,X,Demo,3,")


def test_a_mapping_is_saved_and_chosen_for_the_next_upload(ui_client):
    marketer = ui_client("marketer")
    marketer.post("/imports/new/", {"file": SimpleUploadedFile("a.csv", FILE), "entity": "leads"})
    job = ImportJob.objects.get()
    marketer.post(
        f"/imports/{job.pk}/",
        {
            "column-0": "contact.email",
            "column-1": "account.name",
            "column-2": "lead.topic",
            "action": "template",
            "template_name": "Fair export",
        },
    )
    template = MappingTemplate.objects.get()
    assert template.columns == {
        "Work Email": "contact.email",
        "Organisation": "account.name",
        "Interest": "lead.topic",
    }
    marketer.post(
        "/imports/new/",
        {"file": SimpleUploadedFile("b.csv", FILE), "entity": "leads", "template": template.pk},
    )
    assert ImportJob.objects.order_by("-id").first().mapping[0] == "contact.email"


def test_an_unreadable_file_is_refused_on_the_upload_page(ui_client):
    marketer = ui_client("marketer")
    response = marketer.post(
        "/imports/new/",
        {"file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0rest"), "entity": "leads"},
    )
    assert response.status_code == 422 and "save as XLSX or CSV" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_roles_without_imports_are_kept_out(ui_client):
    seller = ui_client("seller")
    assert seller.get("/imports/").status_code == 403
    assert seller.post("/imports/new/", {"entity": "leads"}).status_code == 403
    assert "/imports/" not in seller.get("/").content.decode()
