"""The scoring pages: list, the rule builder with its live check, the model's page, going live.

The builder posts one input per part (``rule-0-cond-1-where-0-op``); these tests post what a
browser would and look at what was saved and what the page says."""

import re
from html import unescape

import pytest

from leadcycle.scoring.models import ScoringModel
from leadcycle.scoring.services import scoring_model_create

pytestmark = pytest.mark.django_db

RULES = [
    {
        "name": "Decision makers",
        "points": 30,
        "conditions": [
            {
                "entity": "contact",
                "where": [{"field": "role", "op": "eq", "value": "decision_maker"}],
            }
        ],
    }
]
HX = {"HX-Request": "true"}


def form(**overrides):
    """A browser's post of the editor: one decision-maker rule, no grades."""
    data = {
        "name": "Webinar model",
        "target": "contact",
        "sales_ready_score": "50",
        "rule-0-name": "Decision makers",
        "rule-0-points": "30",
        "rule-0-cond-0-entity": "contact",
        "rule-0-cond-0-where-0-field": "role",
        "rule-0-cond-0-where-0-op": "eq",
        "rule-0-cond-0-where-0-value": "decision_maker",
    }
    return {**data, **overrides}


def slot(page, name):
    """The error shown next to an input."""
    found = re.search(rf'id="err-{re.escape(name)}"[^>]*>([^<]*)<', page)
    assert found, f"no error slot {name}"
    return unescape(found.group(1).strip())


def test_a_marketer_builds_a_model_and_takes_it_live(ui_client):
    marketer = ui_client("marketer")
    editor = marketer.get("/scoring/new/").content.decode()
    assert "New scoring model" in editor and 'name="rule-0-name"' in editor
    saved = marketer.post(
        "/scoring/new/",
        form(
            **{
                "rule-1-name": "Each check-in in the last 30 days",
                "rule-1-points": "-5",
                "rule-1-cond-0-entity": "interaction",
                "rule-1-cond-0-kind": "event_checked_in",
                "rule-1-cond-0-frequency": "each",
                "rule-1-cond-0-within_days": "30",
                "rule-1-cond-0-where-0-field": "campaign",
                "rule-1-cond-0-where-0-op": "in",
                "rule-1-cond-0-where-0-value": "Spring, Autumn ",
                "rule-2-name": "Big companies",
                "rule-2-points": "20",
                "rule-2-cond-0-entity": "account",
                "rule-2-cond-0-where-0-field": "employees",
                "rule-2-cond-0-where-0-op": "ge",
                "rule-2-cond-0-where-0-value": "500",
                "rule-2-cond-1-entity": "contact",
                "rule-2-cond-1-where-0-field": "marketing_only",
                "rule-2-cond-1-where-0-op": "eq",
                "rule-2-cond-1-where-0-value": "false",
                "grade-0-name": "Cold",
                "grade-0-min": "-1000",
                "grade-0-max": "25",
                "grade-1-name": "Hot",
                "grade-1-min": "26",
                "grade-1-max": "1000",
            }
        ),
    )
    model = ScoringModel.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/scoring/{model.pk}/"
    stored = [(r.name, r.points, r.conditions) for r in model.rules.order_by("position")]
    assert stored[1] == (
        "Each check-in in the last 30 days",
        -5,
        [
            {
                "entity": "interaction",
                "kind": "event_checked_in",
                "frequency": "each",
                "within_days": 30,
                "where": [{"field": "campaign", "op": "in", "value": ["Spring", "Autumn"]}],
            }
        ],
    )
    assert stored[2][2][0]["where"] == [{"field": "employees", "op": "ge", "value": 500}]
    assert stored[2][2][1]["where"] == [{"field": "marketing_only", "op": "eq", "value": False}]
    assert [g["name"] for g in model.grades] == ["Cold", "Hot"]
    page = marketer.get(f"/scoring/{model.pk}/").content.decode()
    assert "the contact whose role eq “decision_maker”" in page
    marketer.post(f"/scoring/{model.pk}/go-live/")
    assert ScoringModel.objects.get().status == "live"
    assert "Webinar model" in marketer.get("/scoring/").content.decode()


def test_editing_shows_the_saved_rules_in_the_builder_and_saves_a_new_version(ui_client):
    model = scoring_model_create(by=None, data={"name": "M", "rules": RULES})
    marketer = ui_client("marketer")
    editor = marketer.get(f"/scoring/{model.pk}/edit/").content.decode()
    assert 'name="rule-0-name" value="Decision makers"' in editor
    assert 'name="rule-0-cond-0-where-0-value" value="decision_maker"' in editor
    saved = marketer.post(f"/scoring/{model.pk}/edit/", form(**{"rule-0-points": "45"}))
    assert saved.status_code == 302
    model.refresh_from_db()
    assert model.rules.get().points == 45 and model.version == 2


def test_a_save_that_does_not_compile_names_the_input_at_fault(ui_client):
    marketer = ui_client("marketer")
    response = marketer.post(
        "/scoring/new/",
        form(
            **{
                "rule-0-cond-0-entity": "account",
                "rule-0-cond-0-where-0-field": "employees",
                "rule-0-cond-0-where-0-value": "many",
            }
        ),
    )
    html = response.content.decode()
    assert response.status_code == 422 and not ScoringModel.objects.exists()
    assert "Rule 1, condition 1, expression 1, value" in html
    assert slot(html, "rule-0-cond-0-where-0-value") == "Expected a number."
    # What was typed is still there to fix
    assert 'value="many"' in html and 'value="Webinar model"' in html
    empty_name = marketer.post("/scoring/new/", form(**{"name": "", "rule-0-points": "x"}))
    assert empty_name.status_code == 422
    assert slot(empty_name.content.decode(), "rule-0-points").startswith("Points are a whole")


def test_the_live_check_answers_while_typing_next_to_each_input(ui_client):
    marketer = ui_client("marketer")
    good = marketer.post("/scoring/check/", form(), headers=HX).content.decode()
    assert "The rules compile." in good
    # Every error slot is sent, empty, so that a fixed mistake's message goes away
    assert slot(good, "rule-0-points") == "" and 'hx-swap-oob="true"' in good
    assert '"value": "decision_maker"' in unescape(good)  # the JSON the API would take
    overlap = marketer.post(
        "/scoring/check/",
        form(
            **{
                "grade-0-name": "A",
                "grade-0-min": "0",
                "grade-0-max": "10",
                "grade-1-name": "B",
                "grade-1-min": "5",
                "grade-1-max": "20",
            }
        ),
        headers=HX,
    ).content.decode()
    assert slot(overlap, "grades") == "A and B overlap."
    days = marketer.post(
        "/scoring/check/",
        form(
            **{
                "rule-0-cond-1-entity": "interaction",
                "rule-0-cond-1-kind": "email_clicked",
                "rule-0-cond-1-within_days": "0",
            }
        ),
        headers=HX,
    ).content.decode()
    assert slot(days, "rule-0-cond-1-within_days") == "A number of days from 1 to 3650."
    assert "The rules compile." not in days


def test_the_builder_adds_and_removes_rules_conditions_and_expressions(ui_client):
    marketer = ui_client("marketer")
    added = marketer.post("/scoring/builder/", form(edit="add-rule"), headers=HX)
    html = added.content.decode()
    assert added.status_code == 200 and "Rule 2" in html and 'name="rule-1-points"' in html
    # A new rule is not saved, and its empty name is pointed at
    assert slot(html, "rule-1-name") == "Name the rule." and not ScoringModel.objects.exists()
    more = marketer.post("/scoring/builder/", form(edit="add-where-0-0"), headers=HX)
    assert 'name="rule-0-cond-0-where-1-field"' in more.content.decode()
    fewer = marketer.post("/scoring/builder/", form(edit="remove-where-0-0-0"), headers=HX)
    assert 'name="rule-0-cond-0-where-0-field"' not in fewer.content.decode()
    gone = marketer.post("/scoring/builder/", form(edit="remove-rule-0"), headers=HX)
    assert "No rules yet." in gone.content.decode()
    # Indices that do not exist are ignored
    odd = marketer.post("/scoring/builder/", form(edit="remove-cond-7-3"), headers=HX)
    assert odd.status_code == 200 and 'name="rule-0-cond-0-entity"' in odd.content.decode()


def test_choices_change_the_inputs_the_builder_offers(ui_client):
    marketer = ui_client("marketer")
    to_interactions = marketer.post(
        "/scoring/builder/", form(**{"rule-0-cond-0-entity": "interaction"}), headers=HX
    ).content.decode()
    # An interaction condition asks for a kind, a frequency and days; its field list is its own
    assert 'name="rule-0-cond-0-kind"' in to_interactions
    assert 'name="rule-0-cond-0-frequency"' in to_interactions
    assert '<option value="campaign" selected>' in to_interactions
    account_model = marketer.post(
        "/scoring/builder/", form(target="account"), headers=HX
    ).content.decode()
    # An account-based model has no contact conditions: the one written is flagged
    assert "contact (not for this model)" in account_model
    assert "Unknown entity" in slot(account_model, "rule-0-cond-0-entity")
    is_empty = marketer.post(
        "/scoring/builder/", form(**{"rule-0-cond-0-where-0-op": "is_empty"}), headers=HX
    ).content.decode()
    assert 'type="hidden" name="rule-0-cond-0-where-0-value"' in is_empty
    boolean = marketer.post(
        "/scoring/builder/",
        form(**{"rule-0-cond-0-where-0-field": "marketing_only", "rule-0-cond-0-where-0-op": "gt"}),
        headers=HX,
    ).content.decode()
    # yes/no fields offer yes and no, and only the operators that apply to them
    assert '<option value="true"' in boolean and '<option value="gt"' not in boolean


def test_builder_buttons_work_without_javascript(ui_client):
    marketer = ui_client("marketer")
    page = marketer.post("/scoring/new/", form(edit="add-cond-0"))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="rule-0-cond-1-entity"' in html
    assert 'value="Webinar model"' in html and not ScoringModel.objects.exists()


def test_other_roles_see_models_but_do_not_change_them(ui_client):
    model = scoring_model_create(by=None, data={"name": "M", "rules": RULES})
    seller = ui_client("seller")
    page = seller.get(f"/scoring/{model.pk}/").content.decode()
    assert "Decision makers" in page and "Go live" not in page
    assert seller.post(f"/scoring/{model.pk}/go-live/").status_code == 403
    assert seller.post("/scoring/new/", form(name="Other")).status_code == 403
    assert seller.post("/scoring/builder/", form(), headers=HX).status_code == 403
    assert seller.post("/scoring/check/", form(), headers=HX).status_code == 403
    assert ScoringModel.objects.get().status == "draft"
