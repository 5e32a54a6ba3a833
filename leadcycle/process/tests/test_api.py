"""The process through the API: the sales-ready path to an opportunity, qualification with
duplicates offered, disqualify and reactivate, refusals that change nothing, the queues, and
administering processes as documents."""

import json
import threading

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Account, Contact, Lead, Opportunity
from leadcycle.process.models import Process
from leadcycle.testing.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_a_sales_ready_lead_goes_to_the_sales_queue_is_accepted_and_qualified(api_client):
    seller = UserFactory(username="sam", role="seller")
    lead = LeadFactory(parent_contact=None, parent_account=None, topic="Fleet tracking",
                       campaign="Spring 2026")  # fmt: skip
    manager = api_client("sales_manager")
    bar = manager.get(f"/api/v1/leads/{lead.pk}/process").json()
    assert bar["stage"]["key"] == "inquiry"
    assert [s["state"] for s in bar["stages"]] == ["current", "ahead", "ahead", "ahead", "ahead"]
    moved = post(
        manager, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"sales_ready": True}}
    )
    assert moved.status_code == 200 and moved.json()["stage"]["key"] == "sales_acceptance"
    assert [h["stage"] for h in moved.json()["history"]] == ["Inquiry", "Sales acceptance"]
    waiting = manager.get("/api/v1/queues/sales?unaccepted=true").json()
    assert [item["lead_id"] for item in waiting] == [lead.pk]
    # Accepting without a seller is refused, naming the field
    refused = post(manager, f"/api/v1/leads/{lead.pk}/process/steps",
                   {"values": {"sales_accepted": True, "owner": None}})  # fmt: skip
    assert refused.status_code == 422 and "owner" in refused.json()["error"]["fields"]
    accepted = post(manager, f"/api/v1/leads/{lead.pk}/process/steps",
                    {"values": {"owner": seller.pk, "sales_accepted": True}})  # fmt: skip
    assert accepted.status_code == 200
    assert manager.get("/api/v1/queues/sales?unaccepted=true").json() == []
    seller_client = api_client("seller")
    seller_client.cookies.clear()
    # the seller's own list
    from leadcycle.users.services import api_token_create

    token = api_token_create(user=seller, name="t").raw
    mine = manager.get(
        "/api/v1/queues/sales?mine=true", headers={"Authorization": f"Bearer {token}"}
    )
    assert [item["lead_id"] for item in mine.json()] == [lead.pk]
    qualified = post(seller_client, f"/api/v1/leads/{lead.pk}/qualify", {
        "contact": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "account": {"name": "Analytical Engines", "web_domain": "engines.example"},
        "opportunity": {"value": "12000.00"},
    })  # fmt: skip
    assert qualified.status_code == 200, qualified.content
    body = qualified.json()
    assert body["status"] == "qualified"
    assert sorted(body["created"]) == ["account", "contact", "opportunity"]
    opportunity = Opportunity.objects.get(pk=body["opportunity_id"])
    assert opportunity.name == "Fleet tracking" and opportunity.campaign == "Spring 2026"
    assert opportunity.contact.email == "ada@example.com"
    assert opportunity.account.name == "Analytical Engines"
    assert opportunity.contact.account == opportunity.account
    lead.refresh_from_db()
    assert lead.parent_contact == opportunity.contact and lead.status == "qualified"
    # Closed now: qualifying again or disqualifying is refused and changes nothing
    again = post(seller_client, f"/api/v1/leads/{lead.pk}/qualify", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "lead_closed"
    dis = post(seller_client, f"/api/v1/leads/{lead.pk}/disqualify", {"reason": "lost"})
    assert dis.status_code == 409 and dis.json()["error"]["code"] == "lead_has_opportunity"
    assert Opportunity.objects.count() == 1
    assert manager.get(f"/api/v1/leads/{lead.pk}/process").json()["outcome"] == "qualified"


def test_qualifying_offers_duplicates_for_linking_instead_of_creating(api_client):
    existing = ContactFactory(email="Grace@Example.com", account=None)
    company = AccountFactory(name="Navy Labs", web_domain="navy.example")
    lead = LeadFactory(parent_contact=None, parent_account=None)
    seller = api_client("seller")
    preview = post(seller, f"/api/v1/leads/{lead.pk}/qualification/preview", {
        "contact": {"email": " grace@example.COM"}, "account": {"web_domain": "https://navy.example/"},
    }).json()  # fmt: skip
    assert [c["id"] for c in preview["duplicate_contacts"]] == [existing.pk]
    assert [a["id"] for a in preview["duplicate_accounts"]] == [company.pk]
    refused = post(seller, f"/api/v1/leads/{lead.pk}/qualify", {
        "contact": {"email": "grace@example.com"}, "account": {"name": "navy labs"},
    })  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "duplicates_found"
    assert "link_contact_id" in refused.json()["error"]["fields"]
    assert Opportunity.objects.count() == 0 and Lead.objects.get().status == "open"
    linked = post(seller, f"/api/v1/leads/{lead.pk}/qualify", {
        "link_contact_id": existing.pk, "link_account_id": company.pk,
    })  # fmt: skip
    assert linked.status_code == 200 and linked.json()["created"] == ["opportunity"]
    assert Contact.objects.count() == 1 and Account.objects.count() == 1
    existing.refresh_from_db()
    assert existing.account == company


def test_qualifying_cannot_point_the_opportunity_at_another_lead(api_client):
    other = LeadFactory()
    lead = LeadFactory()
    done = post(api_client("seller"), f"/api/v1/leads/{lead.pk}/qualify",
                {"opportunity": {"lead_id": other.pk, "value": "10"}})  # fmt: skip
    assert done.status_code == 200
    assert Opportunity.objects.get().lead == lead
    assert Lead.objects.get(pk=other.pk).status == "open"


def test_the_user_chooses_what_qualifying_creates(api_client):
    contact = ContactFactory()
    lead = LeadFactory(parent_contact=contact)
    done = post(api_client("seller"), f"/api/v1/leads/{lead.pk}/qualify",
                {"create_opportunity": False})  # fmt: skip
    assert done.json()["created"] == [] and done.json()["status"] == "qualified"
    assert Opportunity.objects.count() == 0


def test_disqualify_needs_a_reason_and_reactivate_reopens(api_client):
    lead = LeadFactory()
    seller = api_client("seller")
    missing = post(seller, f"/api/v1/leads/{lead.pk}/disqualify", {"reason": ""})
    assert missing.status_code == 422 and "reason" in missing.json()["error"]["fields"]
    assert Lead.objects.get().status == "open"
    done = post(seller, f"/api/v1/leads/{lead.pk}/disqualify",
                {"reason": "cannot_contact", "note": "three calls"})  # fmt: skip
    assert done.json() == {"lead_id": lead.pk, "status": "disqualified",
                           "status_reason": "Cannot contact: three calls"}  # fmt: skip
    moved = post(seller, f"/api/v1/leads/{lead.pk}/process/next")
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "lead_closed"
    back = post(seller, f"/api/v1/leads/{lead.pk}/reactivate")
    assert back.json()["status"] == "open"
    assert seller.get(f"/api/v1/leads/{lead.pk}/process").json()["outcome"] == ""


def test_refusals_name_the_reason_and_change_nothing(api_client):
    lead = LeadFactory()
    seller = api_client("seller")
    other = Process.objects.create(name="Other")
    stage = other.stages.create(position=0, key="x", name="X")
    foreign = post(seller, f"/api/v1/leads/{lead.pk}/process/move", {"stage_id": stage.pk})
    assert foreign.status_code == 422
    assert foreign.json()["error"]["code"] == "stage_other_process"
    steps = post(seller, f"/api/v1/leads/{lead.pk}/process/steps", {"values": {"salary": 1}})
    assert steps.status_code == 422 and "salary" in steps.json()["error"]["fields"]
    tm = post(seller, f"/api/v1/leads/{lead.pk}/process/steps",
              {"values": {"telemarketing_ready": True, "accept_telemarketing": True}})  # fmt: skip
    assert tm.json()["stage"]["key"] == "telemarketing_qualification"
    blocked = post(seller, f"/api/v1/leads/{lead.pk}/process/next")
    assert blocked.status_code == 422
    assert blocked.json()["error"]["code"] == "required_fields"
    assert list(blocked.json()["error"]["fields"]) == ["need"]
    assert seller.get(f"/api/v1/leads/{lead.pk}/process").json()["stage"]["key"] == (
        "telemarketing_qualification"
    )
    assert seller.get("/api/v1/queues/nowhere").status_code == 404
    telemarketing = seller.get("/api/v1/queues/telemarketing").json()
    assert [(i["lead_id"], i["stage"]) for i in telemarketing] == [
        (lead.pk, "Telemarketing qualification")
    ]


def test_administrators_copy_edit_and_create_processes(api_client):
    admin = api_client("administrator")
    default = Process.objects.get(is_default=True)
    copied = post(admin, f"/api/v1/processes/{default.pk}/copy", {"name": "Partners"})
    assert copied.status_code == 201
    doc = admin.get(f"/api/v1/processes/{copied.json()['id']}").json()
    assert doc["stages"][0]["key"] == "inquiry"
    # Drop telemarketing from the copy and make need required at sales acceptance
    doc["stages"] = [s for s in doc["stages"] if not s["key"].startswith("telemarketing")]
    doc["stages"][-1]["fields"].append({"name": "need", "required": True})
    doc["transitions"] = [t for t in doc["transitions"]
                          if not t["to"].startswith("telemarketing")
                          and t["trigger"] != "step:accept_telemarketing"]  # fmt: skip
    for stage in doc["stages"]:
        stage.pop("id")
    saved = admin.put(f"/api/v1/processes/{copied.json()['id']}", json.dumps(doc),
                      content_type="application/json")  # fmt: skip
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 2
    partners = Process.objects.get(name="Partners")
    assert partners.stages.count() == 3
    bad = {**doc, "stages": [{**doc["stages"][0], "fields": [{"name": "salary"}]}]}
    refused = admin.put(f"/api/v1/processes/{partners.pk}", json.dumps(bad),
                        content_type="application/json")  # fmt: skip
    assert refused.status_code == 422
    assert "stages.0.fields.0.name" in refused.json()["error"]["fields"]
    assert Process.objects.get(name="Partners").stages.count() == 3  # unchanged
    assert post(api_client("seller"), f"/api/v1/processes/{default.pk}/copy").status_code == 403
    lead = LeadFactory()
    switched = post(admin, f"/api/v1/leads/{lead.pk}/process/switch", {"process_id": partners.pk})
    assert switched.json()["process"]["name"] == "Partners"
    assert admin.delete(f"/api/v1/processes/{partners.pk}").status_code == 409  # in use


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_qualifications_create_one_opportunity(on_postgresql):
    from leadcycle.process.qualify import lead_qualify

    user = UserFactory(role="seller")
    lead = LeadFactory()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait(10)
            lead_qualify(lead=Lead.objects.get(pk=lead.pk), by=user, data={})
            outcomes.append("qualified")
        except Exception as exc:  # collected and asserted on below
            outcomes.append(getattr(exc, "code", repr(exc)))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["lead_closed", "qualified"]
    assert Opportunity.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_rule_runs_move_each_lead_once(on_postgresql):
    from leadcycle.crm.models import Task
    from leadcycle.process.models import StageVisit
    from leadcycle.process.services import advance, instances_ensure

    leads = LeadFactory.create_batch(20, telemarketing_ready=True)
    ids = [lead.pk for lead in leads]
    instances_ensure(ids)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(10)
            advance(ids)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    entered = StageVisit.objects.filter(stage__key="telemarketing_acceptance")
    assert entered.count() == 20
    assert Task.objects.filter(queue="telemarketing").count() == 20
