"""The intake staff API: strategies, settings, forms with their questions, submissions; the
error shape and the role checks."""

import json

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Contact, Lead
from leadcycle.intake.models import FormField, IntakeSettings, MarketingForm, MatchingStrategy
from leadcycle.intake.services import form_submit

pytestmark = pytest.mark.django_db


def send(client, method, url, body=None):
    call = getattr(client, method)
    if body is None:
        return call(url)
    return call(url, json.dumps(body), content_type="application/json")


def error(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


WEBINAR = {
    "name": "Webinar signup",
    "slug": "webinar",
    "title": "Join the webinar",
    "lead_topic": "Webinar interest",
    "campaign": "Spring Webinar Series",
    "allowed_origins": ["https://www.example.com"],
    "fields": [
        {
            "key": "email",
            "label": "Email",
            "kind": "email",
            "required": True,
            "maps_to": "contact.email",
        },
        {"key": "first_name", "label": "First name", "maps_to": "contact.first_name"},
        {"key": "size", "label": "Company size", "kind": "choice", "choices": ["1-10", "11-100"]},
    ],
}


# Strategies ------------------------------------------------------------------------------------


def test_administrator_creates_reads_changes_lists_and_deletes_a_strategy(admin_api):
    created = send(
        admin_api,
        "post",
        "/api/v1/matching-strategies",
        {
            "name": "Lead by email and campaign",
            "target": "lead",
            "fields": ["contact.email", "lead.campaign"],
        },
    )
    assert created.status_code == 201, created.json()
    strategy = created.json()
    assert strategy["fields"] == ["contact.email", "lead.campaign"] and strategy["form_count"] == 0
    url = f"/api/v1/matching-strategies/{strategy['id']}"

    assert send(admin_api, "get", url).json()["name"] == "Lead by email and campaign"
    changed = send(
        admin_api, "patch", url, {"fields": ["lead.campaign", "contact.email"], "description": "x"}
    )
    assert changed.status_code == 200 and changed.json()["fields"] == [
        "lead.campaign",
        "contact.email",
    ]

    leads_only = send(admin_api, "get", "/api/v1/matching-strategies?target=lead").json()
    assert {s["name"] for s in leads_only["items"]} >= {
        "Lead by email and form",
        "Lead by email and campaign",
    }
    assert all(s["target"] == "lead" for s in leads_only["items"])
    assert next(s for s in leads_only["items"] if s["name"] == "Lead by email and form")[
        "is_default"
    ]

    assert send(admin_api, "delete", url).status_code == 204
    assert send(admin_api, "get", url).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {"target": "contact", "fields": ["lead.origin_ref"]},
            "fields",
            "cannot be matched on for a contact",
        ),
        ({"target": "contact", "fields": []}, "fields", "cannot be blank"),
        (
            {"target": "lead", "fields": ["contact.email", "contact.email"]},
            "fields",
            "listed twice",
        ),
        ({"target": "account", "fields": ["account.name"]}, "target", "contact"),
    ],
)
def test_strategy_fields_outside_the_whitelist_are_refused_naming_the_field(
    admin_api, body, field, words
):
    response = send(admin_api, "post", "/api/v1/matching-strategies", {"name": "Mine", **body})
    assert response.status_code == 422
    err = error(response)
    assert err["code"] == "validation_error" and field in err["fields"]
    assert words in err["fields"][field]["message"]
    assert not MatchingStrategy.objects.filter(name="Mine").exists()


def test_a_duplicate_strategy_name_is_a_conflict_and_unknown_fields_are_refused(admin_api):
    dup = send(
        admin_api,
        "post",
        "/api/v1/matching-strategies",
        {"name": "Contact by Email", "target": "contact", "fields": ["contact.phone"]},
    )
    assert (
        dup.status_code == 409
        and error(dup)["code"] == "duplicate"
        and "name" in error(dup)["fields"]
    )
    extra = send(
        admin_api,
        "post",
        "/api/v1/matching-strategies",
        {"name": "X", "target": "contact", "fields": ["contact.phone"], "priority": 1},
    )
    assert (
        extra.status_code == 422 and error(extra)["fields"]["priority"]["code"] == "unknown_field"
    )


def test_a_strategy_in_use_cannot_be_deleted_or_change_target(admin_api):
    # Given a form using a custom lead strategy
    strategy = MatchingStrategy.objects.create(
        name="By campaign", target="lead", fields=["lead.campaign"]
    )
    form = send(
        admin_api, "post", "/api/v1/forms", {**WEBINAR, "lead_strategy_id": strategy.pk}
    ).json()
    url = f"/api/v1/matching-strategies/{strategy.pk}"

    # When the administrator deletes it, or turns it into a contact strategy
    deleted = send(admin_api, "delete", url)
    retargeted = send(admin_api, "patch", url, {"target": "contact", "fields": ["contact.email"]})

    # Then both are refused, saying why
    assert deleted.status_code == 409
    assert (
        error(deleted)["code"] == "strategy_in_use"
        and "Webinar signup" in error(deleted)["message"]
    )
    assert retargeted.status_code == 422 and "target" in error(retargeted)["fields"]
    assert MatchingStrategy.objects.get(pk=strategy.pk).target == "lead"

    # And once the form moves to another strategy, it can go
    send(
        admin_api,
        "patch",
        f"/api/v1/forms/{form['id']}",
        {"lead_strategy_id": IntakeSettings.objects.get().default_lead_strategy_id},
    )
    assert send(admin_api, "delete", url).status_code == 204


def test_the_default_strategies_cannot_be_deleted(admin_api):
    default = IntakeSettings.objects.get().default_contact_strategy_id
    response = send(admin_api, "delete", f"/api/v1/matching-strategies/{default}")
    assert response.status_code == 409 and "default pair" in error(response)["message"]


# Settings --------------------------------------------------------------------------------------


def test_settings_name_the_default_pair_and_new_forms_use_it(admin_api):
    by_names = MatchingStrategy.objects.create(
        name="By names", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    before = send(admin_api, "get", "/api/v1/intake-settings").json()
    patched = send(
        admin_api, "patch", "/api/v1/intake-settings", {"default_contact_strategy_id": by_names.pk}
    )
    assert patched.status_code == 200
    assert patched.json() == {**before, "default_contact_strategy_id": by_names.pk}
    form = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    assert form["contact_strategy_id"] == by_names.pk
    assert form["lead_strategy_id"] == before["default_lead_strategy_id"]


def test_settings_refuse_a_strategy_of_the_wrong_target(admin_api):
    lead_strategy = IntakeSettings.objects.get().default_lead_strategy_id
    response = send(
        admin_api,
        "patch",
        "/api/v1/intake-settings",
        {"default_contact_strategy_id": lead_strategy},
    )
    assert response.status_code == 422
    assert (
        "choose a contact strategy"
        in error(response)["fields"]["default_contact_strategy_id"]["message"]
    )


# Forms and questions ---------------------------------------------------------------------------


def test_marketer_creates_a_form_with_questions_and_it_takes_submissions(api_client, client):
    marketer = api_client("marketer")
    response = send(marketer, "post", "/api/v1/forms", WEBINAR)
    assert response.status_code == 201, response.json()
    form = response.json()
    assert [f["key"] for f in form["fields"]] == ["email", "first_name", "size"]
    assert [f["position"] for f in form["fields"]] == [0, 1, 2]
    assert form["fields"][2]["choices"] == ["1-10", "11-100"]
    assert form["allowed_origins"] == ["https://www.example.com"]
    assert form["hosted_path"] == "/f/webinar"
    assert form["submit_path"] == "/api/v1/public/forms/webinar/submissions"

    # The public endpoint now takes answers by those keys
    answer = client.post(
        form["submit_path"],
        json.dumps({"email": "ada@example.com", "first_name": "Ada"}),
        content_type="application/json",
    )
    assert answer.status_code == 201
    ada = Contact.objects.get(email_normalized="ada@example.com")
    assert Lead.objects.get(parent_contact=ada).topic == "Webinar interest"

    # And the form's record and list show it
    assert (
        send(marketer, "get", f"/api/v1/forms/{form['id']}").json()["fields"][0]["maps_to"]
        == "contact.email"
    )
    listed = send(marketer, "get", "/api/v1/forms?is_live=true").json()
    assert listed["count"] == 1 and listed["items"][0]["submission_count"] == 1


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        (
            {"fields": [{"key": "email", "label": "Email", "maps_to": "contact.emails"}]},
            "fields.0.maps_to",
            422,
        ),
        ({"fields": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}, "fields.1.key", 422),
        ({"fields": [{"key": "a b", "label": "A"}]}, "fields.0.key", 422),
        ({"fields": [{"key": "c", "label": "C", "kind": "choice"}]}, "fields.0.choices", 422),
        ({"fields": [{"key": "c", "label": "C", "kind": "dropdown"}]}, "fields.0.kind", 422),
        ({"update_mode": "sometimes"}, "update_mode", 422),
        ({"contact_strategy_id": 999999}, "contact_strategy_id", 422),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url", 422),
        ({"allowed_origins": ["www.example.com"]}, "allowed_origins", 422),
        ({"slug": "has space"}, "slug", 422),
    ],
)
def test_invalid_forms_are_refused_naming_the_field(admin_api, change, field, status):
    response = send(admin_api, "post", "/api/v1/forms", {**WEBINAR, **change})
    assert response.status_code == status, response.json()
    assert field in error(response)["fields"], error(response)
    assert not MarketingForm.objects.exists() and not FormField.objects.exists()


def test_a_taken_address_is_a_conflict_naming_slug(admin_api):
    send(admin_api, "post", "/api/v1/forms", WEBINAR)
    second = send(admin_api, "post", "/api/v1/forms", {**WEBINAR, "name": "Another"})
    assert second.status_code == 409
    assert error(second)["code"] == "duplicate" and "slug" in error(second)["fields"]
    other = send(
        admin_api, "post", "/api/v1/forms", {**WEBINAR, "slug": "other", "fields": []}
    ).json()
    taken = send(admin_api, "patch", f"/api/v1/forms/{other['id']}", {"slug": "webinar"})
    assert taken.status_code == 409 and "slug" in error(taken)["fields"]


def test_patching_a_form_changes_only_what_is_sent(admin_api):
    form = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    patched = send(
        admin_api,
        "patch",
        f"/api/v1/forms/{form['id']}",
        {"is_live": False, "update_mode": "only_contacts", "allowed_origins": []},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (
        body["is_live"] is False
        and body["update_mode"] == "only_contacts"
        and body["allowed_origins"] == []
    )
    assert body["title"] == WEBINAR["title"] and len(body["fields"]) == 3


def test_questions_are_added_changed_moved_and_removed(admin_api):
    form = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    base = f"/api/v1/forms/{form['id']}/fields"

    added = send(
        admin_api,
        "post",
        base,
        {"key": "phone", "label": "Phone", "kind": "phone", "maps_to": "contact.phone"},
    )
    assert added.status_code == 201 and added.json()["position"] == 3
    phone = added.json()["id"]

    moved = send(admin_api, "patch", f"{base}/{phone}", {"position": 0, "required": True})
    assert (
        moved.status_code == 200
        and moved.json()["position"] == 0
        and moved.json()["required"] is True
    )
    keys = [
        f["key"] for f in send(admin_api, "get", f"/api/v1/forms/{form['id']}").json()["fields"]
    ]
    assert keys == ["phone", "email", "first_name", "size"]

    assert send(admin_api, "delete", f"{base}/{phone}").status_code == 204
    fields = send(admin_api, "get", f"/api/v1/forms/{form['id']}").json()["fields"]
    assert [(f["key"], f["position"]) for f in fields] == [
        ("email", 0),
        ("first_name", 1),
        ("size", 2),
    ]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {"key": "x", "label": "X", "maps_to": "contact.shoe_size"},
            "maps_to",
            "Unknown record field",
        ),
        (
            {"key": "x", "label": "X", "maps_to": "lead.origin_ref"},
            "maps_to",
            "set by the form itself",
        ),
        (
            {"key": "x", "label": "X", "maps_to": "contact.email"},
            "maps_to",
            "already fills contact.email",
        ),
        (
            {"key": "x", "label": "X", "kind": "consent", "maps_to": "contact.first_name"},
            "maps_to",
            "consent",
        ),
        ({"key": "email", "label": "X"}, "key", "already uses the key"),
        ({"key": "website_url_hp", "label": "X"}, "key", "reserved"),
    ],
)
def test_a_question_with_an_unusable_mapping_or_key_is_refused_naming_it(
    admin_api, body, field, words
):
    form = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    response = send(admin_api, "post", f"/api/v1/forms/{form['id']}/fields", body)
    assert response.status_code == 422
    err = error(response)
    assert err["code"] == "validation_error" and words in err["fields"][field]["message"]
    assert FormField.objects.filter(form_id=form["id"]).count() == 3


def test_a_question_of_another_form_is_not_found(admin_api):
    first = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    second = send(admin_api, "post", "/api/v1/forms", {**WEBINAR, "slug": "second"}).json()
    response = send(
        admin_api,
        "patch",
        f"/api/v1/forms/{second['id']}/fields/{first['fields'][0]['id']}",
        {"label": "Hi"},
    )
    assert response.status_code == 404 and error(response)["code"] == "not_found"


def test_a_form_is_deleted_until_it_has_submissions(admin_api):
    empty = send(admin_api, "post", "/api/v1/forms", {**WEBINAR, "slug": "empty"}).json()
    used = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    form_submit(form=MarketingForm.objects.get(pk=used["id"]), raw={"email": "ada@example.com"})

    assert send(admin_api, "delete", f"/api/v1/forms/{empty['id']}").status_code == 204
    refused = send(admin_api, "delete", f"/api/v1/forms/{used['id']}")
    assert refused.status_code == 409 and error(refused)["code"] == "form_has_submissions"
    assert MarketingForm.objects.filter(pk=used["id"]).exists()


# Submissions -----------------------------------------------------------------------------------


def test_submissions_list_outcomes_newest_first_filtered_and_paged(api_client, make_form):
    form = make_form()
    form_submit(form=form, raw={"email": "ada@example.com"})
    form_submit(form=form, raw={"email": "ada@example.com", "first_name": "Ada"})
    for n in range(3):
        form_submit(form=form, raw={"email": f"p{n}@example.com"})
    form_submit(form=form, raw={"website_url_hp": "x"})  # a bot
    seller = api_client("seller")  # sellers see submissions

    page = send(
        seller, "get", f"/api/v1/forms/{form.pk}/submissions?status=accepted&page_size=3&page=2"
    ).json()
    assert page["count"] == 5 and page["page"] == 2 and len(page["items"]) == 2
    second, first = page["items"]
    ada = Contact.objects.get(email_normalized="ada@example.com")
    assert (first["contact_id"], first["contact_action"], first["lead_action"]) == (
        ada.pk,
        "created",
        "created",
    )
    assert (second["contact_id"], second["contact_action"], second["lead_action"]) == (
        ada.pk,
        "updated",
        "matched",
    )
    assert second["lead_id"] == first["lead_id"]

    rejected = send(seller, "get", f"/api/v1/forms/{form.pk}/submissions?status=rejected").json()
    assert rejected["count"] == 1 and rejected["items"][0]["errors"]["_spam"]["code"] == "honeypot"

    bad = send(seller, "get", f"/api/v1/forms/{form.pk}/submissions?status=maybe")
    assert bad.status_code == 422 and "status" in error(bad)["fields"]


# Roles -----------------------------------------------------------------------------------------

# (method, path, body) per action; the path's {form}, {field} and {strategy} are filled in.
ACTIONS = {
    "list strategies": ("get", "/api/v1/matching-strategies", None),
    "create strategy": (
        "post",
        "/api/v1/matching-strategies",
        {"name": "N", "target": "contact", "fields": ["contact.phone"]},
    ),
    "change strategy": ("patch", "/api/v1/matching-strategies/{strategy}", {"description": "d"}),
    "read settings": ("get", "/api/v1/intake-settings", None),
    "change settings": ("patch", "/api/v1/intake-settings", {}),
    "list forms": ("get", "/api/v1/forms", None),
    "create form": ("post", "/api/v1/forms", {**WEBINAR, "slug": "role-test"}),
    "change form": ("patch", "/api/v1/forms/{form}", {"title": "T"}),
    "add question": ("post", "/api/v1/forms/{form}/fields", {"key": "k", "label": "K"}),
    "remove question": ("delete", "/api/v1/forms/{form}/fields/{field}", None),
    "list submissions": ("get", "/api/v1/forms/{form}/submissions", None),
}
# Written out here, independently of users.roles.
# fmt: off
ALLOWED_ACTIONS = {
    "marketer":      {"list strategies", "read settings", "list forms", "create form", "change form", "add question", "remove question", "list submissions"},
    "telemarketer":  set(),
    "seller":        {"list submissions"},
    "sales_manager": {"list strategies", "read settings", "list forms", "list submissions"},
    "administrator": set(ACTIONS),
}
# fmt: on


@pytest.mark.parametrize("role", ALLOWED_ACTIONS)
def test_each_role_may_do_exactly_what_it_is_allowed(api_client, make_form, role):
    form = make_form()
    strategy = MatchingStrategy.objects.create(
        name="Spare", target="contact", fields=["contact.phone"]
    )
    client = api_client(role)
    outcome = {}
    for action, (method, path, body) in ACTIONS.items():
        url = path.format(form=form.pk, field=form.fields.last().pk, strategy=strategy.pk)
        response = send(client, method, url, body)
        outcome[action] = response.status_code
        if response.status_code == 403:
            assert error(response)["code"] == "forbidden"
        else:
            assert response.status_code in (200, 201, 204), (action, response.json())
    assert {a for a, status in outcome.items() if status != 403} == ALLOWED_ACTIONS[role]


def test_without_a_token_the_api_answers_401(client):
    response = client.get("/api/v1/forms")
    assert response.status_code == 401 and error(response)["code"] == "not_authenticated"


def test_changes_to_forms_questions_and_strategies_are_audited_with_who_made_them(admin_api):
    form = send(admin_api, "post", "/api/v1/forms", WEBINAR).json()
    send(admin_api, "patch", f"/api/v1/forms/{form['id']}", {"title": "New title"})
    send(
        admin_api,
        "post",
        "/api/v1/matching-strategies",
        {"name": "S", "target": "contact", "fields": ["contact.phone"]},
    )
    entries = AuditEntry.objects.order_by("id")
    assert [(e.record_type, e.action) for e in entries] == [
        ("intake.marketingform", "create"),
        ("intake.formfield", "create"),
        ("intake.formfield", "create"),
        ("intake.formfield", "create"),
        ("intake.marketingform", "update"),
        ("intake.matchingstrategy", "create"),
    ]
    assert {e.actor.username for e in entries} == {"administrator-user"}
    assert entries[4].changes == {"title": ["Join the webinar", "New title"]}


def test_a_strategy_the_linkedin_connector_uses_is_reported_in_use(admin_api):
    from leadcycle.intake.models import MatchingStrategy
    from leadcycle.intake.services import strategy_users
    from leadcycle.linkedin.models import Connector

    strategy = MatchingStrategy.objects.create(
        name="LI leads", target="lead", fields=["contact.email"]
    )
    connector = Connector.objects.create(name="Our LinkedIn", lead_strategy=strategy)
    assert any(connector.name in user for user in strategy_users(strategy))
