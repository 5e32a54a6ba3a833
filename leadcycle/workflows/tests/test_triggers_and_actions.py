"""The rest of the triggers (interaction, score, schedule) and actions (segments, stages, new
leads), and a failing record that fails its own run only."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from leadcycle.crm import services as crm
from leadcycle.crm.models import Contact, Lead
from leadcycle.interactions.services import interaction_record
from leadcycle.process.services import instance_for
from leadcycle.segments.models import Segment, SegmentMember
from leadcycle.testing.factories import ContactFactory, LeadFactory
from leadcycle.workflows import dispatch
from leadcycle.workflows.models import Workflow, WorkflowRun
from leadcycle.workflows.services import workflow_enable, workflow_save

pytestmark = pytest.mark.django_db(transaction=True)


def make(data):
    return workflow_enable(workflow=workflow_save(workflow=None, by=None, data=data), by=None)


def test_an_interaction_of_a_kind_adds_the_contact_to_a_static_segment():
    segment = Segment.objects.create(name="Clicked", kind="static", status="live", query={})
    make(
        {
            "name": "Clickers",
            "entity": "contact",
            "trigger": "interaction_recorded",
            "trigger_config": {"kind": "email_clicked"},
            "actions": [{"type": "add_to_segment", "segment_id": segment.pk}],
        }
    )
    clicker, opener = ContactFactory(), ContactFactory()
    interaction_record(kind="email_clicked", contact_id=clicker.pk)
    interaction_record(kind="email_opened", contact_id=opener.pk)
    assert list(SegmentMember.objects.values_list("contact_id", flat=True)) == [clicker.pk]
    # A second click is another event: another run, the membership unchanged
    interaction_record(kind="email_clicked", contact_id=clicker.pk)
    assert WorkflowRun.objects.count() == 2 and SegmentMember.objects.count() == 1


def test_crossing_a_score_runs_once_per_lead_and_threshold():
    from leadcycle.scoring.models import LeadScore, ScoringModel

    make(
        {
            "name": "Hot leads to sales",
            "entity": "lead",
            "trigger": "score_crossed",
            "trigger_config": {"score": 50},
            "actions": [{"type": "advance_stage", "stage": "sales_acceptance"}],
        }
    )
    hot, cold = LeadFactory(), LeadFactory()
    model = ScoringModel.objects.create(name="Fit", status="live", version=1)
    now = timezone.now()
    for lead, score in ((hot, 70), (cold, 20)):
        LeadScore.objects.create(lead=lead, model=model, score=score, model_version=1,
                                 computed_at=now, changed_at=now)  # fmt: skip
    dispatch.on_leads_scored(lead_ids=[hot.pk, cold.pk])
    dispatch.on_leads_scored(lead_ids=None)  # a full recompute: nothing runs twice
    assert instance_for(hot).stage.key == "sales_acceptance"
    assert instance_for(cold).stage.key == "inquiry"
    assert list(WorkflowRun.objects.values_list("record_id", "event")) == [(hot.pk, "score:50")]
    visit = instance_for(hot).visits.latest("id")
    assert visit.reason == "workflow: Hot leads to sales"


def test_a_schedule_runs_once_per_period_for_the_matching_records():
    make(
        {
            "name": "Weekly nudge",
            "entity": "contact",
            "trigger": "schedule",
            "trigger_config": {"every_hours": 24 * 7},
            "conditions": [{"field": "country", "op": "eq", "value": "NO"}],
            "actions": [{"type": "create_lead", "topic": "Weekly check-in"}],
        }
    )
    norwegian, swede = ContactFactory(country="NO"), ContactFactory(country="SE")
    assert dispatch.schedules_run() == 1
    assert dispatch.schedules_run() == 0  # the week has not passed
    later = timezone.now() + datetime.timedelta(days=8)
    assert dispatch.schedules_run(later) == 1
    assert list(Lead.objects.values_list("parent_contact_id", flat=True)) == [
        norwegian.pk, norwegian.pk
    ]  # fmt: skip
    assert not Lead.objects.filter(parent_contact=swede).exists()


def test_a_bad_record_fails_its_own_run_and_its_neighbours_go_on(monkeypatch):
    from leadcycle.workflows import engine

    make(
        {
            "name": "Flag",
            "entity": "contact",
            "trigger": "created",
            "actions": [{"type": "set_fields", "values": {"marketing_only": True}}],
        }
    )
    real = engine.ACTIONS["set_fields"]

    def fragile(batch, action):
        if Contact.objects.filter(pk__in=batch.ids, email="bad@example.com").exists():
            raise RuntimeError("the bad one")
        return real(batch, action)

    monkeypatch.setitem(engine.ACTIONS, "set_fields", fragile)
    with transaction.atomic():  # one commit: one dispatch, one chunk holding both
        good = crm.contact_create(by=None, data={"email": "good@example.com"})
        bad = crm.contact_create(by=None, data={"email": "bad@example.com"})
    runs = dict(WorkflowRun.objects.values_list("record_id", "status"))
    assert runs == {good.pk: "done", bad.pk: "failed"}
    assert "the bad one" in WorkflowRun.objects.get(record_id=bad.pk).detail
    assert Contact.objects.get(pk=good.pk).marketing_only
    assert not Contact.objects.get(pk=bad.pk).marketing_only
    assert Workflow.objects.get(name="Flag").enabled  # a failure does not switch it off
