"""Edges a review found: loops through stages, one broken workflow beside good ones, the
process's rules kept by actions, one-line texts, webhooks to local addresses and redirects,
score crossings, orphans given an email later."""

import http.server
import json
import threading

import pytest
from django.test import override_settings
from django.utils import timezone

from leadcycle.crm import services as crm
from leadcycle.crm.models import Lead, Task
from leadcycle.process.services import instance_for, stage_move, steps_set
from leadcycle.testing.factories import LeadFactory, UserFactory
from leadcycle.workflows import dispatch
from leadcycle.workflows.builtins import ORPHAN
from leadcycle.workflows.models import WebhookDelivery, Workflow, WorkflowRun
from leadcycle.workflows.services import workflow_enable, workflow_save

pytestmark = pytest.mark.django_db(transaction=True)


def make(data):
    return workflow_enable(workflow=workflow_save(workflow=None, by=None, data=data), by=None)


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_two_workflows_sending_a_lead_back_and_forth_stop_after_one_move_each():
    for name, entered, to in (
        ("There", "telemarketing_acceptance", "telemarketing_qualification"),
        ("Back", "telemarketing_qualification", "telemarketing_acceptance"),
    ):
        make({"name": name, "entity": "lead", "trigger": "stage_entered",
              "trigger_config": {"stage": entered},
              "actions": [{"type": "advance_stage", "stage": to}]})  # fmt: skip
    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})  # → acceptance
    assert instance_for(lead).stage.key == "telemarketing_qualification"
    assert WorkflowRun.objects.count() == 1  # the workflow's own move triggered nothing


def test_a_broken_workflow_does_not_stop_the_others():
    broken = make(
        {
            "name": "Broken",
            "entity": "lead",
            "trigger": "created",
            "actions": [{"type": "create_task", "subject": "A", "queue": "sales"}],
        }
    )
    # A condition the database cannot run (written past the checks, as an old version might)
    Workflow.objects.filter(pk=broken.pk).update(
        conditions=[{"field": "created_at", "op": "le", "value": "9999-12-31"}]
    )
    make(
        {
            "name": "Good",
            "entity": "lead",
            "trigger": "created",
            "actions": [{"type": "create_task", "subject": "B", "queue": "sales"}],
        }
    )
    crm.lead_create(by=None, data={"topic": "New"})
    assert list(Task.objects.values_list("subject", flat=True)) == ["B"]


def test_such_a_date_is_refused_when_saving(api_client):
    refused = post(api_client("marketer"), "/api/v1/workflows", {
        "name": "Far", "entity": "lead", "trigger": "created",
        "conditions": [{"field": "created_at", "op": "le", "value": "9999-12-31"}],
        "actions": [{"type": "create_task", "subject": "A", "queue": "sales"}],
    })  # fmt: skip
    assert refused.status_code == 422 and "conditions.0.value" in refused.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conditions": [{"field": ["topic"], "op": "eq", "value": "x"}]}, "conditions.0.field"),
        ({"conditions": [{"field": "topic", "op": {"a": 1}, "value": "x"}]}, "conditions.0.op"),
        (
            {
                "actions": [
                    {"type": "notify", "user_id": None, "message": "Hot\nBcc: x@evil.example"}
                ]
            },
            "actions.0.user_id",
        ),
        ({"actions": [{"type": "advance_stage", "stage": "nowhere"}]}, "actions.0.stage"),
    ],
)
def test_more_bad_documents_are_refused(api_client, change, field):
    body = {
        "name": "X",
        "entity": "lead",
        "trigger": "created",
        "actions": [{"type": "create_task", "subject": "A", "queue": "sales"}],
        **change,
    }
    refused = post(api_client("marketer"), "/api/v1/workflows", body)
    assert refused.status_code == 422, refused.content
    assert field in refused.json()["error"]["fields"]


def test_a_message_must_be_one_line(api_client):
    user = UserFactory(role="sales_manager")
    refused = post(api_client("marketer"), "/api/v1/workflows", {
        "name": "X", "entity": "lead", "trigger": "created",
        "actions": [{"type": "notify", "user_id": user.pk, "message": "Hot\nBcc: x@evil.example"}],
    })  # fmt: skip
    assert refused.status_code == 422 and "actions.0.message" in refused.json()["error"]["fields"]


def test_custom_interaction_kinds_are_triggers():
    from leadcycle.interactions.models import InteractionKind

    InteractionKind.objects.create(key="webinar_attended", label="Webinar attended")
    workflow = workflow_save(workflow=None, by=None, data={
        "name": "Webinar", "entity": "contact", "trigger": "interaction_recorded",
        "trigger_config": {"kind": "webinar_attended"},
        "actions": [{"type": "set_fields", "values": {"marketing_only": False}}],
    })  # fmt: skip
    assert workflow.trigger_config == {"kind": "webinar_attended"}


def test_actions_keep_the_process_rules():
    seller = UserFactory(role="seller")
    make(
        {
            "name": "Clear owners",
            "entity": "lead",
            "trigger": "field_changed",
            "trigger_config": {"field": "campaign"},
            "actions": [{"type": "set_fields", "values": {"owner": None}}],
        }
    )
    accepted = LeadFactory()
    steps_set(lead=accepted, by=None, values={"sales_ready": True})
    steps_set(lead=accepted, by=None, values={"owner": seller.pk, "sales_accepted": True})
    crm.lead_update(lead=Lead.objects.get(pk=accepted.pk), by=None, data={"campaign": "X"})
    assert Lead.objects.get(pk=accepted.pk).owner_id == seller.pk
    assert WorkflowRun.objects.get(record_id=accepted.pk).status == "skipped"


def test_moving_by_workflow_waits_for_required_fields_and_leaves_held_leads():
    make(
        {
            "name": "To sales",
            "entity": "lead",
            "trigger": "field_changed",
            "trigger_config": {"field": "campaign"},
            "actions": [{"type": "advance_stage", "stage": "sales_acceptance"}],
        }
    )
    waiting = LeadFactory()
    steps_set(lead=waiting, by=None, values={"telemarketing_ready": True})
    steps_set(lead=waiting, by=None, values={"accept_telemarketing": True})  # needs "need"
    held = LeadFactory()
    steps_set(lead=held, by=None, values={"telemarketing_ready": True})
    inquiry = instance_for(held).process.stages.get(key="inquiry")
    stage_move(lead=held, by=None, stage_id=inquiry.pk)
    for lead in (waiting, held):
        crm.lead_update(lead=Lead.objects.get(pk=lead.pk), by=None, data={"campaign": "Go"})
    assert instance_for(waiting).stage.key == "telemarketing_qualification"
    assert instance_for(held).stage.key == "inquiry"


def test_a_score_crossing_before_the_workflow_was_on_does_not_run_it():
    from leadcycle.scoring.models import LeadScore, ScoringModel

    model = ScoringModel.objects.create(name="Fit", status="live", version=1)
    earlier = timezone.now() - timezone.timedelta(days=100)
    old, new = LeadFactory(), LeadFactory()
    LeadScore.objects.create(lead=old, model=model, score=90, model_version=1,
                             computed_at=earlier, changed_at=earlier)  # fmt: skip
    make(
        {
            "name": "Hot",
            "entity": "lead",
            "trigger": "score_crossed",
            "trigger_config": {"score": 50},
            "actions": [{"type": "create_task", "subject": "Hot", "queue": "sales"}],
        }
    )
    now = timezone.now()
    LeadScore.objects.create(lead=new, model=model, score=60, previous_score=40, model_version=1,
                             computed_at=now, changed_at=now)  # fmt: skip
    dispatch.on_leads_scored(lead_ids=None)
    assert list(Task.objects.filter(subject="Hot").values_list("lead_id", flat=True)) == [new.pk]


def test_an_orphan_given_an_email_later_gets_its_contact():
    workflow_enable(workflow=Workflow.objects.get(builtin=ORPHAN), by=None)
    lead = crm.lead_create(by=None, data={"topic": "Call me"}).lead
    assert Lead.objects.get(pk=lead.pk).parent_contact is None  # nothing to make a person from
    crm.lead_update(lead=Lead.objects.get(pk=lead.pk), by=None,
                    data={"email": "late@example.com"})  # fmt: skip
    assert Lead.objects.get(pk=lead.pk).parent_contact.email == "late@example.com"


class Redirecting(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_POST(self) -> None:
        Redirecting.paths.append(self.path)
        self.send_response(302)
        self.send_header("Location", "/internal")
        self.end_headers()

    def do_GET(self) -> None:
        Redirecting.paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_webhooks_follow_no_redirects_and_refuse_local_addresses_by_default():
    server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Redirecting.paths = []
    url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        make(
            {
                "name": "Hook",
                "entity": "account",
                "trigger": "created",
                "actions": [{"type": "webhook", "url": url, "secret": "s" * 20}],
            }
        )
        crm.account_create(by=None, data={"name": "Redirected"})
        delivery = WebhookDelivery.objects.get()
        assert Redirecting.paths == ["/hook"]  # not /internal
        assert delivery.status == "pending" and delivery.last_error == "HTTP 302"
        with override_settings(LEADCYCLE_WEBHOOK_ALLOW_PRIVATE=False):
            crm.account_create(by=None, data={"name": "Local"})
        refused = WebhookDelivery.objects.latest("id")
        assert refused.status == "failed" and "private or local address" in refused.last_error
        assert Redirecting.paths == ["/hook"]  # never called
    finally:
        server.shutdown()
