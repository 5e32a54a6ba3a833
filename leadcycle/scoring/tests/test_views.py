"""The scoring pages: list, editor with its live check, the model's page, going live."""

import json

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


def form(**overrides):
    data = {
        "name": "Webinar model",
        "target": "contact",
        "sales_ready_score": "50",
        "grades": "[]",
        "rules": json.dumps(RULES),
    }
    return {**data, **overrides}


def test_a_marketer_creates_a_model_and_takes_it_live(ui_client):
    marketer = ui_client("marketer")
    assert "New scoring model" in marketer.get("/scoring/new/").content.decode()
    saved = marketer.post("/scoring/new/", form())
    model = ScoringModel.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/scoring/{model.pk}/"
    page = marketer.get(f"/scoring/{model.pk}/").content.decode()
    assert "Decision makers" in page and "the contact whose role eq “decision_maker”" in page
    marketer.post(f"/scoring/{model.pk}/go-live/")
    assert ScoringModel.objects.get().status == "live"
    assert "Webinar model" in marketer.get("/scoring/").content.decode()


def test_the_editor_names_what_does_not_compile(ui_client):
    marketer = ui_client("marketer")
    bad = [
        {
            **RULES[0],
            "conditions": [
                {"entity": "contact", "where": [{"field": "salary", "op": "eq", "value": "1"}]}
            ],
        }
    ]
    response = marketer.post("/scoring/new/", form(rules=json.dumps(bad)))
    assert response.status_code == 422
    assert "rules.0.conditions.0.where.0.field" in response.content.decode()
    assert not ScoringModel.objects.exists()
    not_json = marketer.post("/scoring/new/", form(rules="[{"))
    assert not_json.status_code == 422 and "Not valid JSON" in not_json.content.decode()


def test_the_live_check_answers_while_typing(ui_client):
    marketer = ui_client("marketer")
    good = marketer.post("/scoring/check/", form(), headers={"HX-Request": "true"})
    assert "The rules compile." in good.content.decode()
    bad = marketer.post(
        "/scoring/check/",
        form(
            grades=json.dumps(
                [{"name": "A", "min": 0, "max": 10}, {"name": "B", "min": 5, "max": 20}]
            )
        ),
        headers={"HX-Request": "true"},
    )
    assert "overlap" in bad.content.decode()


def test_other_roles_see_models_but_do_not_change_them(ui_client):
    model = scoring_model_create(by=None, data={"name": "M", "rules": RULES})
    seller = ui_client("seller")
    page = seller.get(f"/scoring/{model.pk}/").content.decode()
    assert "Decision makers" in page and "Go live" not in page
    assert seller.post(f"/scoring/{model.pk}/go-live/").status_code == 403
    assert seller.post("/scoring/new/", form(name="Other")).status_code == 403
    assert ScoringModel.objects.get().status == "draft"
