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


def rows(**values):
    data = {
        "name": "Spring to telemarketing",
        "entity": "lead",
        "trigger": "field_changed",
        "config_field": "campaign",
        "description": "",
        "cond-0-field": "campaign",
        "cond-0-op": "eq",
        "cond-0-value": "Spring",
        "cond-1-field": "",
        "act-0-type": "set_fields",
        "act-0-on": "record",
        "act-0-field": "telemarketing_ready",
        "act-0-value": "true",
        "act-1-type": "create_task",
        "act-1-text": "Call them",
        "act-1-queue": "telemarketing",
        "act-1-due": "2",
        "act-2-type": "",
    }
    return {**data, **values}


def test_the_form_edits_conditions_and_actions_as_rows(ui_client):
    marketer = ui_client("marketer")
    page = marketer.get("/workflows/new/").content.decode()
    assert 'name="cond-0-field"' in page and 'name="act-0-type"' in page
    saved = marketer.post("/workflows/new/", rows())
    assert saved.status_code == 302, saved.content.decode()[:2000]
    workflow = Workflow.objects.get(name="Spring to telemarketing")
    assert workflow.conditions == [{"field": "campaign", "op": "eq", "value": "Spring"}]
    assert workflow.actions == [
        {"type": "set_fields", "on": "record", "values": {"telemarketing_ready": True}},
        {
            "type": "create_task",
            "subject": "Call them",
            "queue": "telemarketing",
            "assignee_id": None,
            "due_in_days": 2,
        },
    ]
    # Drawn back as the same rows; saving them again changes nothing
    again = marketer.get(f"/workflows/{workflow.pk}/").content.decode()
    assert 'value="Spring"' in again and 'value="Call them"' in again
    marketer.post(f"/workflows/{workflow.pk}/", rows())
    assert Workflow.objects.get(pk=workflow.pk).actions == workflow.actions


def test_choosing_an_action_type_shows_its_inputs_without_saving(ui_client):
    marketer = ui_client("marketer")
    redrawn = marketer.post("/workflows/new/", rows(**{"act-2-type": "webhook", "refresh": "1"}))
    assert redrawn.status_code == 200 and 'name="act-2-url"' in redrawn.content.decode()
    assert not Workflow.objects.filter(name="Spring to telemarketing").exists()


def test_an_unknown_field_is_marked_on_its_row(ui_client):
    marketer = ui_client("marketer")
    bad = marketer.post("/workflows/new/", rows(**{"act-0-field": "salary"}))
    text = bad.content.decode()
    assert bad.status_code == 422 and "actions.0.values.salary" in text
    assert 'class="action-row has-error"' in text
    worse = marketer.post(
        "/workflows/new/", rows(**{"cond-0-field": "created_at", "cond-0-value": "yesterday"})
    )
    text = worse.content.decode()
    assert worse.status_code == 422 and '<tr class="has-error">' in text
    assert "value: Expected a date" in text and 'value="yesterday"' in text
    assert not Workflow.objects.filter(name="Spring to telemarketing").exists()
