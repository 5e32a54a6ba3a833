"""Workflows: triggers run the actions once per record and event, conditions filter, bad
documents are refused naming the part, the built-in orphan-lead and qualified workflows, and
webhooks signed and retried against a local server."""

import hashlib
import hmac
import http.server
import json
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leadcycle.crm import services as crm
from leadcycle.crm.models import Account, Contact, Lead, Task
from leadcycle.notifications.models import Notification
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory
from leadcycle.workflows import dispatch
from leadcycle.workflows.builtins import ORPHAN, QUALIFIED
from leadcycle.workflows.dispatch import enabled_cache_clear
from leadcycle.workflows.models import WebhookDelivery, Workflow, WorkflowRun
from leadcycle.workflows.services import workflow_enable, workflow_save
from leadcycle.workflows.webhooks import webhooks_deliver_due

# Workflows run after commit, as they do for users: real commits, not a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def make(data, *, on=True):
    workflow = workflow_save(workflow=None, by=None, data=data)
    return workflow_enable(workflow=workflow, by=None) if on else workflow


def test_a_field_change_runs_the_actions_once_for_the_records_the_conditions_hold_for():
    manager = UserFactory(username="mia", role="sales_manager", email="mia@example.com")
    make(
        {
            "name": "Hot campaign",
            "entity": "lead",
            "trigger": "field_changed",
            "trigger_config": {"field": "campaign"},
            "conditions": [{"field": "campaign", "op": "eq", "value": "Spring"}],
            "actions": [
                {"type": "create_task", "subject": "Call about Spring", "queue": "telemarketing"},
                {"type": "notify", "user_id": manager.pk, "message": "Spring lead", "email": True},
                {"type": "set_fields", "values": {"telemarketing_ready": True}},
            ],
        }
    )
    spring, autumn = LeadFactory(campaign=""), LeadFactory(campaign="")
    crm.lead_update(lead=spring, by=None, data={"campaign": "Spring"})
    crm.lead_update(lead=autumn, by=None, data={"campaign": "Autumn"})
    mine = Task.objects.filter(subject="Call about Spring")
    assert list(mine.values_list("lead_id", "queue")) == [(spring.pk, "telemarketing")]
    assert Lead.objects.get(pk=spring.pk).telemarketing_ready
    assert not Lead.objects.get(pk=autumn.pk).telemarketing_ready
    note = Notification.objects.get(user=manager)
    assert note.url == f"/leads/{spring.pk}/" and "Spring lead" in note.message
    assert [m.to for m in mail.outbox] == [["mia@example.com"]]
    run = WorkflowRun.objects.get()
    assert run.record_id == spring.pk and run.status == "done" and "task" in run.detail
    # The same event dispatched again (a replay) runs nothing
    dispatch.changes_dispatch({"lead": [spring.pk, autumn.pk], "contact": [], "account": []})
    assert WorkflowRun.objects.count() == 1 and mine.count() == 1
    # The workflow's own change (telemarketing_ready) triggered no workflow: no loop
    assert Notification.objects.count() == 1


def test_a_workflow_that_is_off_does_nothing_and_events_before_it_was_on_are_not_run():
    workflow = make(
        {
            "name": "New leads",
            "entity": "lead",
            "trigger": "created",
            "actions": [{"type": "create_task", "subject": "Welcome", "queue": "sales"}],
        },
        on=False,
    )
    lead = crm.lead_create(by=None, data={"topic": "Before"}).lead
    assert Task.objects.count() == 0
    workflow_enable(workflow=workflow, by=None)
    dispatch.changes_dispatch({"lead": [lead.pk], "contact": [], "account": []})
    assert Task.objects.count() == 0  # created before the workflow was on
    crm.lead_create(by=None, data={"topic": "After"})
    assert list(Task.objects.values_list("subject", flat=True)) == ["Welcome"]


def test_stage_entered_and_score_triggers():
    from leadcycle.process.services import steps_set

    make(
        {
            "name": "At sales acceptance",
            "entity": "lead",
            "trigger": "stage_entered",
            "trigger_config": {"stage": "sales_acceptance"},
            "actions": [{"type": "create_task", "subject": "Assign a seller", "queue": "sales"}],
        }
    )
    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"sales_ready": True})
    assert list(
        Task.objects.filter(subject="Assign a seller").values_list("lead_id", flat=True)
    ) == [lead.pk]


def test_bad_documents_are_refused_naming_the_part(api_client):
    marketer = api_client("marketer")
    base = {
        "name": "X",
        "entity": "lead",
        "trigger": "created",
        "actions": [{"type": "create_task", "subject": "Hi", "queue": "sales"}],
    }
    cases = [
        ({"conditions": [{"field": "salary", "op": "eq", "value": 1}]}, "conditions.0.field"),
        ({"actions": [{"type": "set_fields", "values": {"salary": 1}}]}, "actions.0.values.salary"),
        ({"actions": [{"type": "teleport"}]}, "actions.0.type"),
        ({"actions": [{"type": "create_task", "subject": "Hi"}]}, "actions.0.queue"),
        ({"trigger": "field_changed", "trigger_config": {"field": "nope"}}, "trigger_config.field"),
        ({"actions": [{"type": "webhook", "url": "ftp://x", "secret": "s" * 20}]}, "actions.0.url"),
        (
            {
                "actions": [
                    {
                        "type": "set_fields",
                        "on": "parent_contact",
                        "values": {"marketing_only": "yes"},
                    }
                ]
            },
            "actions.0.values.marketing_only",
        ),
        ({"entity": "opportunity"}, "entity"),
    ]
    for change, field in cases:
        refused = post(marketer, "/api/v1/workflows", {**base, **change})
        assert refused.status_code == 422, (change, refused.content)
        assert field in refused.json()["error"]["fields"], (change, refused.json())
    assert Workflow.objects.filter(name="X").count() == 0
    assert post(api_client("seller"), "/api/v1/workflows", base).status_code == 403


def test_the_api_creates_enables_and_lists_runs(api_client):
    marketer = api_client("marketer")
    made = post(
        marketer,
        "/api/v1/workflows",
        {
            "name": "Contacts from Norway",
            "entity": "contact",
            "trigger": "created",
            "conditions": [{"field": "country", "op": "eq", "value": "NO"}],
            "actions": [{"type": "set_fields", "values": {"role": "influencer"}}],
        },
    )
    assert made.status_code == 201 and made.json()["enabled"] is False
    pk = made.json()["id"]
    assert post(marketer, f"/api/v1/workflows/{pk}/enable").json()["enabled"] is True
    norwegian = ContactFactory(country="NO")
    crm.contact_create(by=None, data={"email": "kari@example.no", "country": "NO"})
    crm.contact_create(by=None, data={"email": "sven@example.se", "country": "SE"})
    assert Contact.objects.get(email="kari@example.no").role == "influencer"
    assert Contact.objects.get(email="sven@example.se").role != "influencer"
    runs = marketer.get(f"/api/v1/workflows/{pk}/runs").json()
    assert [r["record_id"] for r in runs] == [Contact.objects.get(email="kari@example.no").pk]
    assert norwegian.pk not in [r["record_id"] for r in runs]  # made by a factory, not audited
    builtin = Workflow.objects.get(builtin=ORPHAN)
    refused = marketer.delete(f"/api/v1/workflows/{builtin.pk}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "workflow_builtin"


# The built-in workflows ------------------------------------------------------------------


def orphan(**values):
    return crm.lead_create(by=None, data={"topic": "Demo request", **values}).lead


def test_the_orphan_workflow_is_off_by_default_then_links_or_creates_contacts():
    assert not Workflow.objects.get(builtin=ORPHAN).enabled
    lead = orphan(first_name="Ada", last_name="Byron", email="ada@byron.example")
    assert Lead.objects.get(pk=lead.pk).parent_contact is None
    assert not WorkflowRun.objects.exists()
    workflow_enable(workflow=Workflow.objects.get(builtin=ORPHAN), by=None)
    known = ContactFactory(email="grace@navy.example", marketing_only=False)
    linked = orphan(email="Grace@Navy.example", company_name="Navy")
    made = orphan(
        first_name="Linus", last_name="T", email="linus@kernel.example", company_name="Kernel Labs"
    )
    linked.refresh_from_db()
    made.refresh_from_db()
    assert linked.parent_contact == known and not known.marketing_only
    contact = made.parent_contact
    assert (
        contact is not None and contact.marketing_only and contact.email == "linus@kernel.example"
    )
    assert (contact.first_name, contact.last_name) == ("Linus", "T")
    assert contact.account is not None and contact.account.name == "Kernel Labs"
    assert made.parent_account == contact.account
    nobody = orphan()  # no name, no email: nothing to make a person from
    assert Lead.objects.get(pk=nobody.pk).parent_contact is None
    assert WorkflowRun.objects.get(record_id=nobody.pk).status == "skipped"


def test_turning_the_orphan_workflow_on_processes_existing_orphans_in_bulk(api_client):
    leads = [orphan(email=f"buyer{n}@bulk.example", company_name="Bulk Co") for n in range(30)]
    twin = orphan(email="buyer0@bulk.example")  # the same person as leads[0]
    orphan_workflow = Workflow.objects.get(builtin=ORPHAN)
    response = post(
        api_client("administrator"),
        f"/api/v1/workflows/{orphan_workflow.pk}/enable",
        {"apply_to_existing": True},
    )
    assert response.status_code == 200
    assert Lead.objects.filter(parent_contact__isnull=True).count() == 0
    assert Contact.objects.filter(marketing_only=True).count() == 30
    assert Account.objects.filter(name="Bulk Co").count() == 1
    first = Lead.objects.get(pk=leads[0].pk)
    assert Lead.objects.get(pk=twin.pk).parent_contact_id == first.parent_contact_id
    # Applying again creates nothing
    from leadcycle.workflows.dispatch import existing_apply

    existing_apply(orphan_workflow)
    assert Contact.objects.count() == 30


def test_the_orphan_pass_costs_the_same_for_5_leads_as_for_40():
    from leadcycle.workflows.dispatch import existing_apply

    orphan_workflow = workflow_enable(workflow=Workflow.objects.get(builtin=ORPHAN), by=None)

    def switch(on: bool) -> None:  # without the services: no audit entries to count
        Workflow.objects.filter(pk=orphan_workflow.pk).update(enabled=on)
        enabled_cache_clear()

    switch(False)  # no runs on create
    counts = []
    for size in (1, 5, 40):  # the first warms the caches (settings rows)
        for n in range(size):
            orphan(email=f"p{size}-{n}@people.example", company_name=f"Firm {size}-{n % 3}")
        switch(True)
        workflow = Workflow.objects.get(pk=orphan_workflow.pk)
        # The engine's own statements; what listeners do after commit is counted elsewhere.
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            existing_apply(workflow)
        switch(False)
        counts.append(len(queries))
    assert Lead.objects.filter(parent_contact__isnull=True).count() == 0
    assert counts[1] == counts[2], counts


def test_qualifying_a_lead_clears_its_contacts_marketing_only_flag():
    from leadcycle.process.qualify import lead_qualify

    assert Workflow.objects.get(builtin=QUALIFIED).enabled
    contact = ContactFactory(marketing_only=True)
    lead = LeadFactory(parent_contact=contact)
    lead_qualify(lead=lead, by=None, data={"create_account": False})
    contact.refresh_from_db()
    assert contact.marketing_only is False


# Webhooks ----------------------------------------------------------------------------------


class Receiver(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answers.pop(0) if Receiver.answers else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver():
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received, Receiver.answers = [], []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_webhook_is_signed_retried_with_backoff_and_never_blocks_the_change(receiver):
    import datetime

    from django.utils import timezone

    secret = "s3cret-for-tests-only"
    make(
        {
            "name": "Tell the ERP",
            "entity": "account",
            "trigger": "created",
            "actions": [{"type": "webhook", "url": receiver, "secret": secret}],
        }
    )
    Receiver.answers = [500]
    account = crm.account_create(by=None, data={"name": "Fabrikam"})
    assert Account.objects.filter(pk=account.pk).exists()  # the change committed regardless
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=20)
    assert webhooks_deliver_due() == {}  # not due yet
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert webhooks_deliver_due(later) == {"delivered": 1}
    headers, body = Receiver.received[-1]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Leadcycle-Signature"] == f"sha256={expected}"
    assert json.loads(body)["record"]["name"] == "Fabrikam"
    assert len(Receiver.received) == 2
    shown = Workflow.objects.get(name="Tell the ERP")
    from leadcycle.workflows.services import workflow_document

    assert workflow_document(shown)["actions"][0]["secret"] != secret  # never shown back


def test_the_command_line_switches_applies_and_ticks():
    from io import StringIO

    from django.core.management import CommandError, call_command

    orphan(email="cli@example.com")
    workflow = Workflow.objects.get(builtin=ORPHAN)
    out = StringIO()
    call_command("workflows", "list", stdout=out)
    assert "off  lead" in out.getvalue()
    with pytest.raises(CommandError, match="switch it on first"):
        call_command("workflows", "apply", str(workflow.pk))
    out = StringIO()
    call_command("workflows", "on", str(workflow.pk), "--existing", stdout=out)
    assert "1 runs" in out.getvalue()
    assert Lead.objects.get(email="cli@example.com").parent_contact is not None
    with pytest.raises(CommandError, match="No workflow 9999"):
        call_command("workflows", "off", "9999")
    out = StringIO()
    call_command("workflows", "tick", stdout=out)
    assert "0 scheduled runs" in out.getvalue()
