"""The edges of the process: rules wait for a stage's required fields and for a lead moved back
by hand; who may accept, assign and create on qualification; one path for a lead's status; bad
input answered with 4xx, never a 500; history keeps its stages."""

import json
import threading

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Account, Contact, Lead, Opportunity
from leadcycle.errors import DomainError
from leadcycle.process import services
from leadcycle.process.models import Process, ProcessInstance
from leadcycle.process.services import instance_for, stage_move, steps_set
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def stage_key(lead):
    return instance_for(lead).stage.key


def at_telemarketing_qualification(lead):
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    steps_set(lead=lead, by=None, values={"accept_telemarketing": True})
    assert stage_key(lead) == "telemarketing_qualification"


# Rules and required fields ---------------------------------------------------------------


def test_a_rule_waits_for_the_required_fields_of_the_stage_it_leaves(api_client):
    lead = LeadFactory()
    at_telemarketing_qualification(lead)
    seller = api_client("seller")
    ticked = post(seller, f"/api/v1/leads/{lead.pk}/process/steps",
                  {"values": {"sales_ready": True}})  # fmt: skip
    body = ticked.json()
    assert body["stage"]["key"] == "telemarketing_qualification"  # "need" is required here
    assert body["waiting"] == [{"rule": body["waiting"][0]["rule"], "to": "Sales acceptance",
                                "held": False, "missing": ["Need"]}]  # fmt: skip
    filled = post(seller, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"need": "CRM"}})
    assert filled.json()["stage"]["key"] == "sales_acceptance"
    assert filled.json()["waiting"] == []


def test_the_set_based_run_honours_required_fields_too():
    waiting, ready = LeadFactory(), LeadFactory()
    for lead in (waiting, ready):
        at_telemarketing_qualification(lead)
    instance = instance_for(ready)
    ProcessInstance.objects.filter(pk=instance.pk).update(values={**instance.values, "need": "x"})
    # Ticked in bulk (an import, say): only the lead whose required field is filled moves.
    Lead.objects.filter(pk__in=[waiting.pk, ready.pk]).update(sales_ready=True)
    assert services.advance(None) == 1
    assert (stage_key(waiting), stage_key(ready)) == ("telemarketing_qualification",
                                                      "sales_acceptance")  # fmt: skip


def test_a_lead_moved_back_by_hand_stays_until_a_person_moves_it_on():
    manager = UserFactory(role="sales_manager")
    lead = LeadFactory()
    steps_set(lead=lead, by=manager, values={"sales_ready": True})
    assert stage_key(lead) == "sales_acceptance"
    back = lead.process_instances.get().process.stages.get(key="telemarketing_qualification")
    stage_move(lead=lead, by=manager, stage_id=back.pk)
    # Still sales-ready, and "need" filled: the rule would send it straight on, but waits.
    steps_set(lead=lead, by=manager, values={"need": "Fleet of 40"})
    services.advance(None)
    assert stage_key(lead) == "telemarketing_qualification"
    assert instance_for(lead).held
    assert services.waiting(instance_for(lead))[0]["held"] is True
    services.stage_next(lead=lead, by=manager)
    assert stage_key(lead) == "sales_acceptance" and not instance_for(lead).held


def test_ticking_a_step_releases_a_lead_moved_back():
    user = UserFactory(role="telemarketer")
    lead = LeadFactory()
    at_telemarketing_qualification(lead)
    first = lead.process_instances.get().process.stages.get(key="inquiry")
    stage_move(lead=lead, by=user, stage_id=first.pk)
    services.advance([lead.pk])
    assert stage_key(lead) == "inquiry"
    # telemarketing_ready is still ticked; ticking "sales ready" is a new decision
    steps_set(lead=lead, by=user, values={"sales_ready": True})
    assert stage_key(lead) == "sales_acceptance"


# Who may do what -------------------------------------------------------------------------


def test_only_a_sales_manager_assigns_and_accepts(api_client):
    seller_user = UserFactory(role="seller")
    lead = LeadFactory()
    seller = api_client("seller")
    post(seller, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"sales_ready": True}})
    refused = post(seller, f"/api/v1/leads/{lead.pk}/process/steps",
                   {"values": {"owner": seller_user.pk, "sales_accepted": True}})  # fmt: skip
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert set(refused.json()["error"]["fields"]) == {"owner", "sales_accepted"}
    assert Lead.objects.get().owner_id != seller_user.pk
    manager = api_client("sales_manager")
    done = post(manager, f"/api/v1/leads/{lead.pk}/process/steps",
                {"values": {"owner": seller_user.pk, "sales_accepted": True}})  # fmt: skip
    assert done.status_code == 200
    # Clearing the owner of an accepted lead is refused: it would be nobody's
    cleared = post(manager, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"owner": None}})
    assert cleared.status_code == 422 and "owner" in cleared.json()["error"]["fields"]
    assert Lead.objects.get().owner_id == seller_user.pk


def test_a_telemarketer_qualifies_only_with_what_their_role_may_create(api_client):
    lead = LeadFactory(parent_contact=None, parent_account=None)
    telemarketer = api_client("telemarketer")
    refused = post(telemarketer, f"/api/v1/leads/{lead.pk}/qualify", {
        "contact": {"first_name": "Ada", "last_name": "Byron", "email": "ada@byron.example"},
        "create_account": False, "create_opportunity": False,
    })  # fmt: skip
    assert refused.status_code == 403
    assert list(refused.json()["error"]["fields"]) == ["create_contact"]
    assert Contact.objects.filter(email="ada@byron.example").count() == 0
    existing = ContactFactory()
    linked = post(telemarketer, f"/api/v1/leads/{lead.pk}/qualify", {
        "link_contact_id": existing.pk, "create_account": False, "create_opportunity": False,
    })  # fmt: skip
    assert linked.status_code == 200 and linked.json()["created"] == []
    other = LeadFactory(parent_contact=existing)
    no_opportunity = post(telemarketer, f"/api/v1/leads/{other.pk}/qualify", {})
    assert no_opportunity.status_code == 403
    assert Lead.objects.get(pk=other.pk).status == "open" and Opportunity.objects.count() == 0


# One path for a lead's status --------------------------------------------------------------


def test_the_lead_api_follows_the_same_status_rules(admin_api):
    made = post(admin_api, "/api/v1/leads", {"topic": "Closed at birth", "status": "disqualified"})
    assert made.status_code == 422
    assert list(made.json()["error"]["fields"]) == ["status_reason"]
    assert not Lead.objects.filter(topic="Closed at birth").exists()
    lead = LeadFactory()
    patch = admin_api.patch(f"/api/v1/leads/{lead.pk}",
                            json.dumps({"status": "disqualified", "status_reason": "Spam"}),
                            content_type="application/json")  # fmt: skip
    assert patch.status_code == 200
    shown = admin_api.get(f"/api/v1/leads/{lead.pk}/process").json()
    assert shown["outcome"] == "disqualified"
    reopened = admin_api.patch(f"/api/v1/leads/{lead.pk}", json.dumps({"status": "open"}),
                               content_type="application/json")  # fmt: skip
    assert reopened.status_code == 200 and reopened.json()["status_reason"] == ""
    assert admin_api.get(f"/api/v1/leads/{lead.pk}/process").json()["outcome"] == ""
    qualified = post(admin_api, f"/api/v1/leads/{lead.pk}/qualify", {"create_opportunity": False})
    assert qualified.status_code == 200
    again = admin_api.patch(f"/api/v1/leads/{lead.pk}", json.dumps({"status": "open"}),
                            content_type="application/json")  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["code"] == "lead_qualified"
    assert Lead.objects.get(pk=lead.pk).status == "qualified"


def test_a_lead_created_closed_has_a_finished_instance(admin_api):
    made = post(admin_api, "/api/v1/leads",
                {"topic": "Old deal", "status": "qualified"})  # fmt: skip
    assert made.status_code == 201, made.content
    instance = ProcessInstance.objects.get(lead_id=made.json()["id"])
    assert instance.outcome == "qualified" and instance.finished_at is not None


# Duplicates on qualification -------------------------------------------------------------


def test_a_contact_sharing_only_a_name_may_be_created_anyway(api_client):
    ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@old.example")
    lead = LeadFactory(parent_contact=None, parent_account=None)
    seller = api_client("seller")
    body = {"contact": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@new.example"},
            "create_account": False}  # fmt: skip
    offered = post(seller, f"/api/v1/leads/{lead.pk}/qualify", body)
    assert offered.status_code == 409 and offered.json()["error"]["code"] == "duplicates_found"
    created = post(seller, f"/api/v1/leads/{lead.pk}/qualify", {**body, "create_anyway": True})
    assert created.status_code == 200 and "contact" in created.json()["created"]
    assert Contact.objects.filter(last_name="Lovelace").count() == 2


def test_a_contact_with_the_same_email_is_never_created_anyway(api_client):
    ContactFactory(email="grace@navy.example")
    lead = LeadFactory(parent_contact=None, parent_account=None)
    refused = post(api_client("seller"), f"/api/v1/leads/{lead.pk}/qualify", {
        "contact": {"email": "Grace@Navy.example"}, "create_anyway": True,
    })  # fmt: skip
    assert refused.status_code == 409 and Contact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_leads_qualified_at_once_into_the_same_new_company_make_one_account(on_postgresql):
    from leadcycle.process.qualify import lead_qualify

    user = UserFactory(role="seller")
    leads = [LeadFactory(parent_contact=None, parent_account=None) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(lead: Lead, n: int) -> None:
        try:
            barrier.wait(10)
            lead_qualify(lead=lead, by=user, data={
                "contact": {"email": f"buyer{n}@contoso.example"},
                "account": {"name": "Contoso", "web_domain": "contoso.example"},
            })  # fmt: skip
            outcomes.append("qualified")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(lead, n)) for n, lead in enumerate(leads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["duplicates_found", "qualified"]
    assert Account.objects.filter(web_domain="contoso.example").count() == 1


# Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact": {"email": 5}}, "contact.email"),
        ({"contact": "ada@example.com"}, "contact"),
        ({"account": {"name": ["Contoso"]}}, "account.name"),
        ({"link_contact_id": True}, "link_contact_id"),
        ({"link_account_id": "7"}, "link_account_id"),
        ({"opportunity": "big"}, "opportunity"),
    ],
)
def test_qualify_refuses_values_of_the_wrong_type(api_client, body, field):
    lead = LeadFactory(parent_contact=None, parent_account=None)
    seller = api_client("seller")
    for url in ("qualification/preview", "qualify"):
        refused = post(seller, f"/api/v1/leads/{lead.pk}/{url}", body)
        if url == "qualify" or field != "opportunity":
            assert refused.status_code == 422, (url, refused.content)
            assert field in refused.json()["error"]["fields"]
    assert Lead.objects.get().status == "open" and Opportunity.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["stages"][0].update(queue=["sales"]), "stages.0.queue"),
        (lambda d: d["stages"][0].update(fields=[{"name": ["need"]}]), "stages.0.fields.0.name"),
        (lambda d: d["transitions"][0].update(trigger={"a": 1}), "transitions.0.trigger"),
        (lambda d: d["transitions"][0].update(to=["inquiry"]), "transitions.0.to"),
        (lambda d: d["transitions"][0].update({"from": [["inquiry"]]}), "transitions.0.from"),
    ],
)
def test_a_process_document_of_the_wrong_shape_is_refused(api_client, change, field):
    admin = api_client("administrator")
    default = Process.objects.get(is_default=True)
    doc = admin.get(f"/api/v1/processes/{default.pk}").json()
    for stage in doc["stages"]:
        stage.pop("id")
    change(doc)
    refused = admin.put(f"/api/v1/processes/{default.pk}", json.dumps(doc),
                        content_type="application/json")  # fmt: skip
    assert refused.status_code == 422, refused.content
    assert field in refused.json()["error"]["fields"]
    assert Process.objects.get(pk=default.pk).version == default.version


def test_a_boolean_is_not_a_stage_id():
    lead = LeadFactory()
    with pytest.raises(DomainError) as refused:
        stage_move(lead=lead, by=None, stage_id=True)  # type: ignore[arg-type]
    assert refused.value.code == "stage_other_process"


def test_odd_digits_in_a_posted_id_are_refused_not_a_500(ui_client):
    lead = LeadFactory()
    seller = ui_client("seller")
    for action, name in (("move", "stage"), ("switch", "process")):
        answer = seller.post(f"/leads/{lead.pk}/process/act/", {"action": action, name: "²"},
                             headers={"HX-Request": "true"})  # fmt: skip
        assert answer.status_code == 200 and 'id="process-error"' in answer.content.decode()
    assert stage_key(lead) == "inquiry"


# History keeps its stages ----------------------------------------------------------------


def test_a_stage_in_a_lead_history_cannot_be_removed(api_client):
    admin = api_client("administrator")
    default = Process.objects.get(is_default=True)
    lead = LeadFactory()
    at_telemarketing_qualification(lead)
    stage_move(lead=lead, by=None, stage_id=default.stages.get(key="inquiry").pk)  # back
    doc = admin.get(f"/api/v1/processes/{default.pk}").json()
    for stage in doc["stages"]:
        stage.pop("id")
    doc["stages"] = [s for s in doc["stages"] if s["key"] != "telemarketing_acceptance"]
    doc["transitions"] = [
        {**t, "from": [k for k in t["from"] if k != "telemarketing_acceptance"]}
        for t in doc["transitions"]
        if t["to"] != "telemarketing_acceptance"
    ]
    refused = admin.put(f"/api/v1/processes/{default.pk}", json.dumps(doc),
                        content_type="application/json")  # fmt: skip
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["code"] == "stage_in_use"
    assert default.stages.filter(key="telemarketing_acceptance").exists()


# Second review ---------------------------------------------------------------------------


def test_opportunity_fields_of_the_wrong_type_are_refused(api_client):
    lead = LeadFactory()
    refused = post(api_client("seller"), f"/api/v1/leads/{lead.pk}/qualify",
                   {"opportunity": {"expected_close": 5}})  # fmt: skip
    assert refused.status_code == 422
    assert "opportunity.expected_close" in json.dumps(refused.json()["error"]["fields"])
    assert Lead.objects.get().status == "open"


def test_no_path_around_the_status_rules(admin_api):
    def patch(lead, body):
        return admin_api.patch(f"/api/v1/leads/{lead.pk}", json.dumps(body),
                               content_type="application/json")  # fmt: skip

    qualified = LeadFactory()
    post(admin_api, f"/api/v1/leads/{qualified.pk}/qualify", {"create_opportunity": False})
    again = patch(qualified, {"status": "disqualified", "status_reason": "x"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "lead_qualified"
    lost = LeadFactory()
    post(admin_api, f"/api/v1/leads/{lost.pk}/disqualify", {"reason": "lost"})
    jumped = patch(lost, {"status": "qualified"})
    assert jumped.status_code == 409 and jumped.json()["error"]["code"] == "lead_disqualified"
    assert Lead.objects.get(pk=lost.pk).status_reason == "Lost"


def test_an_opportunity_made_from_an_open_lead_qualifies_it(admin_api):
    lead = LeadFactory()
    made = post(admin_api, "/api/v1/opportunities", {"name": "Deal", "lead_id": lead.pk})
    assert made.status_code == 201
    assert Lead.objects.get(pk=lead.pk).status == "qualified"
    assert instance_for(lead).outcome == "qualified"
    # An older lead left open beside its opportunity: qualifying adopts the opportunity
    old = LeadFactory()
    from leadcycle.testing.factories import OpportunityFactory

    kept = OpportunityFactory(lead=old)
    done = post(admin_api, f"/api/v1/leads/{old.pk}/qualify", {})
    assert done.status_code == 200 and done.json()["opportunity_id"] == kept.pk
    assert done.json()["created"] == [] and Opportunity.objects.filter(lead=old).count() == 1


def test_an_accepted_lead_keeps_an_owner_on_every_path(api_client):
    seller = UserFactory(role="seller")
    lead = LeadFactory()
    manager = api_client("sales_manager")
    post(manager, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"sales_ready": True}})
    post(manager, f"/api/v1/leads/{lead.pk}/process/steps",
         {"values": {"owner": seller.pk, "sales_accepted": True}})  # fmt: skip
    cleared = api_client("seller").patch(f"/api/v1/leads/{lead.pk}", json.dumps({"owner_id": None}),
                                         content_type="application/json")  # fmt: skip
    assert cleared.status_code == 422 and cleared.json()["error"]["code"] == "owner_required"
    assert Lead.objects.get(pk=lead.pk).owner_id == seller.pk


def test_a_rule_into_its_own_stage_is_refused(api_client):
    admin = api_client("administrator")
    made = post(admin, "/api/v1/processes", {
        "name": "Loop", "stages": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
        "transitions": [{"name": "Loop", "trigger": "step:sales_ready", "from": ["b"], "to": "b"}],
    })  # fmt: skip
    assert made.status_code == 422 and "transitions.0.from" in made.json()["error"]["fields"]


def test_who_ticked_a_step_is_kept_in_the_audit_and_on_the_visit():
    from leadcycle.audit.models import AuditEntry

    telemarketer = UserFactory(role="telemarketer")
    lead = LeadFactory(telemarketing_ready=True)
    services.advance([lead.pk])
    steps_set(lead=lead, by=telemarketer, values={"accept_telemarketing": True})
    entry = AuditEntry.objects.filter(record_type="process.processinstance").latest("id")
    assert entry.actor == telemarketer
    assert entry.changes["values"][1] == {"accept_telemarketing": True}
    visit = ProcessInstance.objects.get(lead=lead).visits.latest("id")
    assert visit.by == telemarketer and visit.reason.startswith("rule:")


def test_queue_tasks_close_when_the_lead_leaves_the_queue_and_are_not_doubled():
    from leadcycle.crm.models import Task
    from leadcycle.process.qualify import lead_disqualify

    lead = LeadFactory(telemarketing_ready=True)
    services.advance([lead.pk])
    process = instance_for(lead).process
    inquiry = process.stages.get(key="inquiry")
    acceptance = process.stages.get(key="telemarketing_acceptance")
    assert Task.objects.filter(lead=lead, done=False).count() == 1
    stage_move(lead=lead, by=None, stage_id=inquiry.pk)
    assert Task.objects.filter(lead=lead, done=False).count() == 0
    stage_move(lead=lead, by=None, stage_id=acceptance.pk)
    stage_move(lead=lead, by=None, stage_id=acceptance.pk)
    assert Task.objects.filter(lead=lead, done=False).count() == 1
    lead_disqualify(lead=lead, by=None, reason="lost")
    assert Task.objects.filter(lead=lead, done=False).count() == 0


def test_editing_a_process_applies_its_rules_to_waiting_leads(
    api_client, django_capture_on_commit_callbacks
):
    lead = LeadFactory()
    at_telemarketing_qualification(lead)
    steps_set(lead=lead, by=None, values={"sales_ready": True})
    assert stage_key(lead) == "telemarketing_qualification"  # waits for Need
    admin = api_client("administrator")
    default = Process.objects.get(is_default=True)
    doc = admin.get(f"/api/v1/processes/{default.pk}").json()
    for stage in doc["stages"]:
        stage.pop("id")
        for field in stage["fields"]:
            field["required"] = field["name"] == "owner" and field["required"]
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin.put(f"/api/v1/processes/{default.pk}", json.dumps(doc),
                          content_type="application/json")  # fmt: skip
    assert saved.status_code == 200
    assert stage_key(lead) == "sales_acceptance"


def test_ticking_sales_ready_in_the_lead_form_releases_a_held_lead(ui_client):
    from leadcycle.crm import services as crm

    lead = LeadFactory()
    at_telemarketing_qualification(lead)
    first = instance_for(lead).process.stages.get(key="inquiry")
    stage_move(lead=lead, by=None, stage_id=first.pk)
    assert instance_for(lead).held
    crm.lead_update(lead=Lead.objects.get(pk=lead.pk), by=None, data={"sales_ready": True})
    assert not instance_for(lead).held
    services.advance([lead.pk])
    assert stage_key(lead) == "sales_acceptance"
