"""The workflow pages: list with on/off, the form (refusals marked, 422), the run log, roles."""

import json

import pytest

from leadcycle.workflows.models import Workflow

pytestmark = pytest.mark.django_db


def form(**values):
    data = {
        "name": "Norway contacts",
        "entity": "contact",
        "trigger": "field_changed",
        "config_field": "country",
        "description": "",
        "conditions": json.dumps([{"field": "country", "op": "eq", "value": "NO"}]),
        "actions": json.dumps([{"type": "set_fields", "values": {"role": "influencer"}}]),
    }
    return {**data, **values}


def test_marketers_create_and_switch_workflows_in_the_ui(ui_client):
    marketer = ui_client("marketer")
    listing = marketer.get("/workflows/").content.decode()
    assert "Orphan leads get a marketing-only contact" in listing and "built in" in listing
    saved = marketer.post("/workflows/new/", form())
    workflow = Workflow.objects.get(name="Norway contacts")
    assert saved.status_code == 302 and workflow.trigger_config == {"field": "country"}
    assert not workflow.enabled
    marketer.post(f"/workflows/{workflow.pk}/toggle/", {"action": "enable"})
    assert Workflow.objects.get(pk=workflow.pk).enabled
    page = marketer.get(f"/workflows/{workflow.pk}/").content.decode()
    assert 'id="workflow-runs"' in page and "No runs yet." in page


def test_the_form_marks_what_is_wrong_and_saves_nothing(ui_client):
    marketer = ui_client("marketer")
    unknown = marketer.post(
        "/workflows/new/",
        form(actions=json.dumps([{"type": "set_fields", "values": {"salary": 1}}])),
    )
    assert unknown.status_code == 422 and "actions.0.values.salary" in unknown.content.decode()
    broken = marketer.post("/workflows/new/", form(conditions="[{oops"))
    assert broken.status_code == 422 and "Not valid JSON" in broken.content.decode()
    assert "[{oops" in broken.content.decode()  # what was typed stays
    assert not Workflow.objects.filter(name="Norway contacts").exists()


def test_roles(ui_client):
    builtin = Workflow.objects.get(builtin="orphan_lead_contact")
    manager = ui_client("sales_manager")
    page = manager.get(f"/workflows/{builtin.pk}/").content.decode()
    assert "disabled" in page and ">Save<" not in page
    assert manager.post(f"/workflows/{builtin.pk}/toggle/", {"action": "enable"}).status_code == 403
    assert ui_client("seller").get("/workflows/").status_code == 403
    admin = ui_client("administrator")
    admin.post(f"/workflows/{builtin.pk}/toggle/", {"action": "delete"})
    assert Workflow.objects.filter(pk=builtin.pk).exists()  # built in: switched off, not deleted
