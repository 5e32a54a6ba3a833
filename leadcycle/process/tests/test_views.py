"""The process pages: the bar on the lead page (htmx and plain forms), qualification with
duplicates offered, the queues, process administration."""

import json

import pytest

from leadcycle.crm.models import Lead, Opportunity
from leadcycle.process.models import Process
from leadcycle.process.services import instance_for
from leadcycle.testing.factories import ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_the_lead_page_shows_the_bar_and_its_buttons_move_the_lead(ui_client):
    lead = LeadFactory(topic="Fleet tracking")
    tm = ui_client("telemarketer")
    page = tm.get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="process-bar"' in page and 'aria-current="step"' in page
    assert "Automated marketing qualification" in page
    # Open another stage's fields (htmx), then tick telemarketing-ready in it
    amq = instance_for(lead).process.stages.get(key="marketing_qualification")
    panel = tm.get(f"/leads/{lead.pk}/process/?stage={amq.pk}", headers=HX).content.decode()
    assert 'name="telemarketing_ready"' in panel
    moved = tm.post(f"/leads/{lead.pk}/process/act/", {
        "action": "save", "stage": amq.pk, "fields": ["telemarketing_ready", "need"],
        "telemarketing_ready": "on", "need": "",
    }, headers=HX).content.decode()  # fmt: skip
    assert "Now at <b>Telemarketing acceptance</b>" in moved
    assert instance_for(lead).stage.key == "telemarketing_acceptance"
    # Next stage from telemarketing qualification without "need": refused inline
    tm.post(f"/leads/{lead.pk}/process/act/", {"action": "save", "fields": ["accept_telemarketing"],
                                               "accept_telemarketing": "on"}, headers=HX)  # fmt: skip
    refused = tm.post(f"/leads/{lead.pk}/process/act/", {"action": "next"}, headers=HX)
    assert 'id="process-error"' in refused.content.decode()
    assert "need" in refused.content.decode()
    assert instance_for(lead).stage.key == "telemarketing_qualification"
    # Without JavaScript the same form posts and redirects back
    plain = tm.post(f"/leads/{lead.pk}/process/act/", {
        "action": "next", "fields": ["need", "sales_ready"], "need": "40 seats", "sales_ready": "on",
    })  # fmt: skip
    assert plain.status_code == 302
    assert instance_for(lead).stage.key == "sales_acceptance"


def test_roles_that_cannot_change_leads_see_the_bar_without_buttons(ui_client):
    lead = LeadFactory()
    UserFactory(username="viewer")
    marketer = ui_client("marketer")  # marketers may change leads
    assert "Next stage" in marketer.get(f"/leads/{lead.pk}/").content.decode()
    client = ui_client("administrator")
    assert client.post(f"/leads/{lead.pk}/process/act/", {"action": "bogus"}).status_code == 302


def test_disqualify_from_the_bar_needs_a_reason(ui_client):
    lead = LeadFactory()
    seller = ui_client("seller")
    bad = seller.post(f"/leads/{lead.pk}/process/act/", {"action": "disqualify", "reason": ""},
                      headers=HX)  # fmt: skip
    assert "Say why" in bad.content.decode()
    assert Lead.objects.get().status == "open"
    ok = seller.post(f"/leads/{lead.pk}/process/act/", {"action": "disqualify", "reason": "lost"},
                     headers=HX)  # fmt: skip
    assert ok["HX-Refresh"] == "true" and Lead.objects.get().status == "disqualified"
    page = seller.get(f"/leads/{lead.pk}/").content.decode()
    assert "Reactivate" in page and "(Lost)" in page


def test_the_qualify_page_offers_duplicates_then_links_them(ui_client):
    existing = ContactFactory(email="ada@example.com")
    lead = LeadFactory(parent_contact=None, parent_account=None)
    seller = ui_client("seller")
    form = seller.get(f"/leads/{lead.pk}/qualify/").content.decode()
    assert 'name="create_opportunity" checked' in form
    offered = seller.post(f"/leads/{lead.pk}/qualify/", {
        "create_contact": "on", "create_opportunity": "on", "contact_email": "ADA@example.com",
    })  # fmt: skip
    assert offered.status_code == 422
    html = offered.content.decode()
    assert f'name="link_contact_id" value="{existing.pk}"' in html
    done = seller.post(f"/leads/{lead.pk}/qualify/", {
        "link_contact_id": existing.pk, "create_opportunity": "on", "value": "500",
    })  # fmt: skip
    opportunity = Opportunity.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/opportunities/{opportunity.pk}/"
    assert opportunity.contact == existing and str(opportunity.value) == "500.00"


def test_queue_pages_list_the_waiting_leads_oldest_first(ui_client):
    from leadcycle.process.services import steps_set

    first, second = LeadFactory(topic="First"), LeadFactory(topic="Second")
    for lead in (first, second):
        steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    page = ui_client("telemarketer").get("/queues/telemarketing/").content.decode()
    assert page.index("First") < page.index("Second")
    assert ui_client("telemarketer").get("/queues/elsewhere/").status_code == 404


def test_administrators_copy_and_edit_a_process_in_the_ui(ui_client):
    admin = ui_client("administrator")
    default = Process.objects.get(is_default=True)
    copied = admin.post(f"/processes/{default.pk}/copy/")
    copy = Process.objects.get(name=f"Copy of {default.name}")
    assert copied["Location"] == f"/processes/{copy.pk}/"
    editor = admin.get(f"/processes/{copy.pk}/").content.decode()
    assert "telemarketing_acceptance" in editor
    from leadcycle.process.admin_services import process_document

    doc = process_document(copy)
    doc["name"] = "Events process"
    doc["stages"][0]["fields"][0]["required"] = True
    saved = admin.post(f"/processes/{copy.pk}/", {"document": json.dumps(doc)})
    assert saved.status_code == 302
    copy.refresh_from_db()
    assert copy.name == "Events process" and copy.version == 2
    bad = admin.post(f"/processes/{copy.pk}/", {"document": "{not json"})
    assert bad.status_code == 422 and "Not valid JSON" in bad.content.decode()
    assert ui_client("seller").post(f"/processes/{default.pk}/copy/").status_code == 403
    assert "Events process" in admin.get("/processes/").content.decode()


def test_administrators_set_what_qualifying_creates(ui_client):
    from leadcycle.process.services import process_settings

    admin = ui_client("administrator")
    assert admin.post("/processes/settings/", {"create_contact": "on"}).status_code == 302
    settings = process_settings()
    assert settings.create_contact and not settings.create_opportunity
    assert not settings.ask_each_time
    # Without "ask each time" the form's choices are not the user's: the settings decide
    lead = LeadFactory(parent_contact=ContactFactory())
    ui_client("seller").post(f"/leads/{lead.pk}/qualify/", {"create_opportunity": "on"})
    assert Lead.objects.get(pk=lead.pk).status == "qualified"
    assert not Opportunity.objects.exists()
    assert ui_client("seller").post("/processes/settings/", {}).status_code == 403


def _designer_post(doc):
    """What the designer's form posts for this document (the browser's part)."""
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.update({"name": doc["name"], "description": doc["description"]})
    if doc["is_default"]:
        data["is_default"] = "on"
    for n, stage in enumerate(doc["stages"]):
        p = f"stage-{n}"
        data.update({f"{p}-name": stage["name"], f"{p}-key": stage["key"],
                     f"{p}-position": str(n + 1), f"{p}-queue": stage["queue"]})  # fmt: skip
        if stage["creates_task"]:
            data[f"{p}-task"] = "on"
        for field in stage["fields"]:
            data[f"{p}-field-{field['name']}"] = "on"
            if field["required"]:
                data[f"{p}-required-{field['name']}"] = "on"
    for n, rule in enumerate(doc["transitions"]):
        p = f"rule-{n}"
        data.update({f"{p}-name": rule["name"], f"{p}-trigger": rule["trigger"],
                     f"{p}-to": rule["to"], f"{p}-position": str(n + 1)})  # fmt: skip
        for key in rule["from"]:
            data.appendlist(f"{p}-from", key)
    return data


def test_the_designer_edits_stages_fields_and_rules_without_json(ui_client):
    from leadcycle.process.admin_services import process_copy, process_document

    admin = ui_client("administrator")
    copy = process_copy(process=Process.objects.get(is_default=True), by=None, name="Partners")
    page = admin.get(f"/processes/{copy.pk}/").content.decode()
    assert 'name="stage-0-key" id="stage-0-key" value="inquiry"' in page
    assert 'name="stage-4-required-owner" aria-label="Stage 5 requires Owner" checked' in page
    assert "Add a stage" in page and 'placeholder="add a rule"' in page
    data = _designer_post(process_document(copy))
    # A new stage between the first two, requiring a budget; the telemarketing stages removed
    data.update({"stage-9-name": "Partner check", "stage-9-position": "1.5",
                 "stage-9-field-budget": "on", "stage-9-required-budget": "on",
                 "stage-2-remove": "on", "stage-3-remove": "on"})  # fmt: skip
    for n in (2, 3):  # the rules into the removed stages go too
        data[f"rule-{n}-remove"] = "on"
    data.update({"rule-9-name": "Partner approved", "rule-9-trigger": "step:sales_ready",
                 "rule-9-to": "sales_acceptance", "rule-9-position": "9"})  # fmt: skip
    saved = admin.post(f"/processes/{copy.pk}/", data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    stages = list(copy.stages.order_by("position"))
    assert [s.key for s in stages] == [
        "inquiry", "partner_check", "marketing_qualification", "sales_acceptance",
    ]  # fmt: skip
    assert [(f.name, f.required) for f in stages[1].fields.all()] == [("budget", True)]
    assert [t.name for t in copy.transitions.order_by("position")][-1] == "Partner approved"
    # A rule into a stage the form no longer has is refused, naming it; nothing changes
    data = _designer_post(process_document(copy))
    data["rule-0-to"] = "nowhere"
    refused = admin.post(f"/processes/{copy.pk}/", data)
    assert refused.status_code == 422 and "transitions.0.to" in refused.content.decode()
    assert copy.stages.count() == 4


def test_a_refused_next_stage_keeps_nothing_but_shows_what_was_typed(ui_client):
    from leadcycle.process.services import steps_set

    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    steps_set(lead=lead, by=None, values={"accept_telemarketing": True})
    tm = ui_client("telemarketer")
    refused = tm.post(f"/leads/{lead.pk}/process/act/", {
        "action": "next", "fields": ["need", "budget"], "need": "", "budget": "40k EUR",
    }, headers=HX).content.decode()  # fmt: skip
    assert 'id="process-error"' in refused and 'value="40k EUR"' in refused
    instance = instance_for(lead)
    assert instance.stage.key == "telemarketing_qualification"
    assert "budget" not in instance.values  # the refused move saved nothing


def test_the_bar_says_why_a_rule_waits(ui_client):
    from leadcycle.process.services import steps_set

    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    steps_set(lead=lead, by=None, values={"accept_telemarketing": True})
    steps_set(lead=lead, by=None, values={"sales_ready": True})  # "need" is required to leave
    page = ui_client("telemarketer").get(f"/leads/{lead.pk}/process/", headers=HX)
    waiting = page.content.decode()
    assert 'id="process-waiting"' in waiting and "waits for Need" in waiting


def test_the_process_list_and_a_read_only_view_for_non_administrators(ui_client):
    default = Process.objects.get(is_default=True)
    admin_page = ui_client("administrator").get("/processes/").content.decode()
    assert admin_page.count('id="qualification-settings"') == 1
    assert "<title>Processes" in admin_page
    seller = ui_client("seller")
    listing = seller.get("/processes/").content.decode()
    assert f'href="/processes/{default.pk}/">View' in listing
    view = seller.get(f"/processes/{default.pk}/")
    assert view.status_code == 200
    text = view.content.decode()
    assert "Telemarketing qualification" in text and "any earlier stage" in text
    assert "<textarea" not in text and 'type="submit"' not in text
    assert seller.post(f"/processes/{default.pk}/", {"document": "{}"}).status_code == 403


def test_saving_a_stale_bar_keeps_what_others_changed_meanwhile(ui_client):
    from leadcycle.process.services import steps_set

    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    steps_set(lead=lead, by=None, values={"accept_telemarketing": True})
    tm = ui_client("telemarketer")
    bar = tm.get(f"/leads/{lead.pk}/process/", headers=HX).content.decode()
    assert 'name="was_sales_ready" value=""' in bar
    Lead.objects.filter(pk=lead.pk).update(sales_ready=True)  # scoring, meanwhile
    tm.post(f"/leads/{lead.pk}/process/act/", {
        "action": "save", "fields": ["need", "sales_ready"], "need": "40 seats",
        "was_need": "", "was_sales_ready": "",
    }, headers=HX)  # fmt: skip
    assert Lead.objects.get(pk=lead.pk).sales_ready  # not unticked by the stale form
    assert instance_for(lead).stage.key == "sales_acceptance"


def test_a_seller_saves_a_stage_showing_manager_steps_without_touching_them(ui_client):
    from leadcycle.process.services import steps_set

    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"sales_ready": True})
    seller = ui_client("seller")
    bar = seller.get(f"/leads/{lead.pk}/process/", headers=HX).content.decode()
    assert 'id="step-sales_accepted" disabled' in bar
    saved = seller.post(f"/leads/{lead.pk}/process/act/", {"action": "save", "fields": ["need"],
                        "need": "Fleet", "was_need": ""}, headers=HX).content.decode()  # fmt: skip
    assert 'id="process-error"' not in saved
    assert instance_for(lead).values["need"] == "Fleet"


def test_the_qualify_page_marks_errors_and_offers_create_anyway_for_a_name(ui_client):
    ContactFactory(first_name="Ann", last_name="Lee", email="ann@old.example")
    lead = LeadFactory(parent_contact=None, parent_account=None, first_name="Ann",
                       last_name="Lee", email="ann@new.example")  # fmt: skip
    seller = ui_client("seller")
    form = seller.get(f"/leads/{lead.pk}/qualify/").content.decode()
    assert 'value="ann@new.example"' in form  # the lead's own details, ready to use
    offered = seller.post(f"/leads/{lead.pk}/qualify/", {
        "create_contact": "on", "contact_first_name": "Ann", "contact_last_name": "Lee",
        "contact_email": "ann@new.example",
    })  # fmt: skip
    assert offered.status_code == 422 and 'id="create-contact-anyway"' in offered.content.decode()
    bad = seller.post(f"/leads/{lead.pk}/qualify/", {"create_opportunity": "on", "value": "abc",
                      "link_contact_id": str(ContactFactory().pk)})  # fmt: skip
    assert bad.status_code == 422 and "<b>value</b>" in bad.content.decode()


def test_json_nested_past_the_limit_is_not_a_500(ui_client):
    default = Process.objects.get(is_default=True)
    answer = ui_client("administrator").post(f"/processes/{default.pk}/?mode=json",
                                             {"document": "[" * 100_000})  # fmt: skip
    assert answer.status_code == 422 and "Not valid JSON" in answer.content.decode()
