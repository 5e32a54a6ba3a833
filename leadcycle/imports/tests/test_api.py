"""The import API as an integration would use it: upload, adjust the mapping, dry-run, run,
follow the job, download the rejected rows; bad input answered with a code and the field."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadcycle.crm.models import Contact, Lead
from leadcycle.imports.models import ImportJob, MappingTemplate

pytestmark = pytest.mark.django_db

FILE = b"E-mail,Company,Subject,Notes\nada@example.com,Engines,Demo,hi\nbad-email,X,Demo,\n"


def upload(client, content=FILE, name="leads.csv", **data):
    return client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **data},
    )


def test_a_file_is_uploaded_mapped_dry_run_and_imported(
    api_client, django_capture_on_commit_callbacks
):
    api = api_client("marketer")
    created = upload(api, entity="leads")
    assert created.status_code == 201, created.content
    job = created.json()
    # Suggested from the headers, with samples to check them against
    assert [(c["header"], c["field"]) for c in job["columns"]] == [
        ("E-mail", "contact.email"),
        ("Company", "account.name"),
        ("Subject", "lead.topic"),
        ("Notes", "lead.description"),
    ]
    assert job["columns"][0]["sample"] == ["ada@example.com", "bad-email"]
    assert job["rows_total"] == 2 and job["problems"] == {}
    # The mapping is adjusted: notes left out
    patched = api.patch(
        f"/api/v1/imports/{job['id']}",
        {"mapping": {"Notes": None}},
        content_type="application/json",
    )
    assert patched.json()["columns"][3]["field"] is None
    with django_capture_on_commit_callbacks(execute=True):
        dry = api.post(f"/api/v1/imports/{job['id']}/dry-run")
    assert dry.status_code == 202
    counts = api.get(f"/api/v1/imports/{job['id']}").json()["dry_run"]
    assert (counts["created"], counts["rejected"]) == (1, 1) and not Lead.objects.exists()
    assert counts["errors"] == [
        {"row": 3, "column": "E-mail", "reason": "'bad-email' is not an email address."}
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/imports/{job['id']}/run").status_code == 202
    done = api.get(f"/api/v1/imports/{job['id']}").json()
    assert (done["status"], done["percent"], done["created"], done["rejected"]) == (
        "done",
        100,
        1,
        1,
    )
    assert Lead.objects.get().description == ""
    errors = api.get(f"/api/v1/imports/{job['id']}/errors").json()
    assert errors[0]["row"] == 3 and errors[0]["values"][0] == "bad-email"
    report = b"".join(api.get(f"/api/v1/imports/{job['id']}/errors.csv").streaming_content)
    assert (
        report.decode("utf-8-sig")
        .splitlines()[1]
        .endswith("3,E-mail: 'bad-email' is not an email address.")
    )
    # A second run of a started job is refused
    again = api.post(f"/api/v1/imports/{job['id']}/run")
    assert again.status_code == 409 and again.json()["error"]["code"] == "import_started"


def test_bad_uploads_name_the_field_at_fault(api_client):
    api = api_client("marketer")
    cases = [
        (upload(api, entity="planets"), "entity", "unknown_entity"),
        (upload(api, content=b"\x00\x01binary", entity="leads"), "file", "unreadable_file"),
        (
            upload(api, entity="leads", mapping=json.dumps({"Company": "account.salary"})),
            "mapping.Company",
            "unknown_field",
        ),
        (upload(api, entity="leads", mapping="{not json"), "mapping", "invalid_json"),
        (
            upload(api, entity="leads", options=json.dumps({"on_match": "merge"})),
            "on_match",
            "invalid_choice",
        ),
    ]
    for response, field, code in cases:
        body = response.json()
        assert response.status_code == 422, body
        assert body["error"]["fields"][field]["code"] == code, body
    assert not ImportJob.objects.exists()


def test_a_mapping_that_cannot_run_is_refused_with_the_reason(api_client):
    api = api_client("marketer")
    job = upload(api, content=b"Name,Notes\nAda,x\n", entity="leads").json()
    assert set(job["problems"]) == {"mapping", "contact_strategy", "default_topic"}
    refused = api.post(f"/api/v1/imports/{job['id']}/run")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["mapping"]["code"] == "incomplete_mapping"
    assert ImportJob.objects.get().status == "draft"


def test_saved_mappings_are_reused_for_the_next_file(api_client):
    api = api_client("marketer")
    job = upload(
        api,
        content=b"Mail,Firma\nada@example.com,Engines\n",
        entity="contacts",
        mapping=json.dumps({"Mail": "contact.email", "Firma": "account.name"}),
    ).json()
    saved = api.post(
        f"/api/v1/imports/{job['id']}/mapping",
        {"name": "German CRM export"},
        content_type="application/json",
    )
    assert saved.status_code == 201
    assert MappingTemplate.objects.get().columns == {
        "Mail": "contact.email",
        "Firma": "account.name",
    }
    second = upload(
        api,
        content=b"MAIL,firma\nbo@example.com,Bo AB\n",
        entity="contacts",
        template="German CRM export",
    ).json()
    assert [c["field"] for c in second["columns"]] == ["contact.email", "account.name"]
    assert [m["name"] for m in api.get("/api/v1/import-mappings").json()] == ["German CRM export"]


def test_roles_without_imports_see_nothing(api_client):
    seller = api_client("seller")
    assert upload(seller, entity="leads").status_code == 403
    assert seller.get("/api/v1/imports").status_code == 403
    assert not Contact.objects.exists()
