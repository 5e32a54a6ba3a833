"""The business process: the default process as data, automatic movement by its rules, people
moving leads, required fields, queues and tasks, switching process."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadcycle.crm.models import Lead, Task
from leadcycle.errors import DomainError
from leadcycle.interactions.services import interaction_record
from leadcycle.process import services
from leadcycle.process.models import Process, ProcessInstance, StageVisit
from leadcycle.process.services import instance_for, stage_move, stage_next, steps_set
from leadcycle.scoring.services import scoring_model_create, scoring_model_go_live
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

CLICKS = {
    "name": "Each click",
    "points": 10,
    "conditions": [{"entity": "interaction", "kind": "email_clicked", "frequency": "each"}],
}


def live_model(sales_ready_score=30):
    model = scoring_model_create(
        by=None,
        data={"name": "Clicks", "rules": [CLICKS], "sales_ready_score": sales_ready_score,
              "grades": [{"name": "All", "min": -1000, "max": 100_000}]},
    )  # fmt: skip
    return scoring_model_go_live(model=model, by=None)


def stage_key(lead):
    return instance_for(lead).stage.key


def path(lead):
    return [
        (v.stage.key, v.reason)
        for v in StageVisit.objects.filter(instance__lead=lead).select_related("stage")
    ]


def click(contact, n=1):
    for _ in range(n):
        interaction_record(kind="email_clicked", contact_id=contact.pk)


def test_the_default_process_is_data_made_by_the_migration():
    process = Process.objects.get(is_default=True)
    assert process.name == "Lead to opportunity marketing sales process"
    assert [s.name for s in process.stages.all()] == [
        "Inquiry",
        "Automated marketing qualification",
        "Telemarketing acceptance",
        "Telemarketing qualification",
        "Sales acceptance",
    ]
    sales = process.stages.get(key="sales_acceptance")
    assert [(f.name, f.required) for f in sales.fields.all()] == [
        ("owner", True),
        ("sales_accepted", False),
    ]
    assert process.transitions.count() == 4


def test_a_new_lead_stands_at_inquiry():
    lead = LeadFactory()
    assert stage_key(lead) == "inquiry"
    assert path(lead) == [("inquiry", "new lead")]


def test_scoring_moves_a_lead_to_marketing_qualification_then_straight_to_sales_acceptance(
    django_capture_on_commit_callbacks,
):
    contact = ContactFactory()
    lead = LeadFactory(parent_contact=contact, topic="Webinar")
    with django_capture_on_commit_callbacks(execute=True):
        live_model(sales_ready_score=30)
    assert stage_key(lead) == "marketing_qualification"
    with django_capture_on_commit_callbacks(execute=True):
        click(contact, 3)  # 30 points: sales-ready
    lead.refresh_from_db()
    assert lead.sales_ready
    assert stage_key(lead) == "sales_acceptance"
    assert [key for key, _ in path(lead)] == [
        "inquiry",
        "marketing_qualification",
        "sales_acceptance",
    ]
    assert path(lead)[2][1] == "rule: Sales-ready: straight to sales acceptance"
    task = Task.objects.get(lead=lead)
    assert task.queue == "sales" and task.subject == "Sales acceptance: Webinar"
    assert not Task.objects.filter(lead=lead, queue="telemarketing").exists()


def test_automatic_qualification_can_be_switched_off(django_capture_on_commit_callbacks):
    from leadcycle.scoring.services import scoring_settings_update

    scoring_settings_update(by=None, data={"auto_qualification": False})
    lead = LeadFactory()
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    assert lead.scores.exists()
    assert stage_key(lead) == "inquiry"


def test_the_telemarketing_path_enforces_required_fields_on_next_stage():
    seller = UserFactory(role="seller")
    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    assert stage_key(lead) == "telemarketing_acceptance"
    assert Task.objects.filter(lead=lead, queue="telemarketing").count() == 1
    steps_set(lead=lead, by=None, values={"accept_telemarketing": True})
    assert stage_key(lead) == "telemarketing_qualification"
    with pytest.raises(DomainError) as refused:
        stage_next(lead=lead, by=None)
    assert refused.value.code == "required_fields" and "need" in refused.value.fields
    assert stage_key(lead) == "telemarketing_qualification"  # nothing changed
    steps_set(lead=lead, by=None, values={"need": "A CRM for 40 sellers", "budget": "50k"})
    instance = instance_for(lead)
    assert instance.values["need"] == "A CRM for 40 sellers"
    steps_set(lead=lead, by=None, values={"sales_ready": True})
    assert stage_key(lead) == "sales_acceptance"
    with pytest.raises(ValidationError) as no_owner:
        steps_set(lead=lead, by=None, values={"owner": None, "sales_accepted": True})
    assert "owner" in no_owner.value.message_dict
    steps_set(lead=lead, by=None, values={"owner": seller.pk, "sales_accepted": True})
    lead.refresh_from_db()
    assert lead.owner == seller and instance_for(lead).values["sales_accepted"] is True


def test_bad_steps_and_stages_are_refused_naming_the_reason():
    lead = LeadFactory()
    with pytest.raises(ValidationError) as unknown:
        steps_set(lead=lead, by=None, values={"salary": "1", "sales_ready": "yes"})
    assert set(unknown.value.message_dict) == {"salary", "sales_ready"}
    other = services.default_process()
    copy = Process.objects.create(name="Other")
    stage = copy.stages.create(position=0, key="start", name="Start")
    with pytest.raises(DomainError) as foreign:
        stage_move(lead=lead, by=None, stage_id=stage.pk)
    assert foreign.value.code == "stage_other_process" and foreign.value.status == 422
    assert instance_for(lead).process == other
    lead.status = Lead.Status.DISQUALIFIED
    lead.save()
    with pytest.raises(DomainError) as closed:
        stage_next(lead=lead, by=None)
    assert closed.value.code == "lead_closed"


def test_moving_forward_by_hand_needs_the_required_fields_of_the_stages_passed():
    lead = LeadFactory()
    process = services.default_process()
    sales = process.stages.get(key="sales_acceptance")
    with pytest.raises(DomainError) as refused:
        stage_move(lead=lead, by=None, stage_id=sales.pk)
    assert list(refused.value.fields) == ["need"]
    back = process.stages.get(key="marketing_qualification")
    stage_move(lead=lead, by=None, stage_id=back.pk)
    assert stage_key(lead) == "marketing_qualification"
    steps_set(lead=lead, by=None, values={"need": "Yes"})
    stage_move(lead=lead, by=None, stage_id=sales.pk)
    assert stage_key(lead) == "sales_acceptance"


def test_switching_process_keeps_the_old_history():
    from leadcycle.process.admin_services import process_copy

    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    copy = process_copy(process=services.default_process(), by=None, name="Partner leads")
    services.process_switch(lead=lead, by=None, process_id=copy.pk)
    instances = ProcessInstance.objects.filter(lead=lead).order_by("id")
    assert [(i.process.name, i.active) for i in instances] == [
        ("Lead to opportunity marketing sales process", False),
        ("Partner leads", True),
    ]
    # telemarketing-ready still holds: the copy's rules move it on again
    assert stage_key(lead) == "telemarketing_acceptance"
    assert [key for key, _ in path(lead)] == [
        "inquiry", "telemarketing_acceptance", "inquiry", "telemarketing_acceptance",
    ]  # fmt: skip


def test_rules_apply_to_every_open_lead_in_bulk_with_a_fixed_number_of_queries():
    def run(n):
        leads = LeadFactory.create_batch(n)
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(telemarketing_ready=True)
        with CaptureQueriesContext(connection) as queries:
            moved = services.advance([lead.pk for lead in leads])
        assert moved == n
        return len(queries)

    run(2)  # settings rows created on first use
    assert run(5) == run(40)
    assert ProcessInstance.objects.filter(stage__key="telemarketing_acceptance").count() == 47
    assert Task.objects.filter(queue="telemarketing").count() == 47
    # applying them again changes nothing
    assert services.advance(None) == 0


def test_old_visits_have_left_times_and_the_open_one_none():
    lead = LeadFactory(created_at=timezone.now() - datetime.timedelta(days=2))
    steps_set(lead=lead, by=None, values={"sales_ready": True})
    visits = list(StageVisit.objects.filter(instance__lead=lead))
    assert visits[0].left_at is not None and visits[-1].left_at is None
