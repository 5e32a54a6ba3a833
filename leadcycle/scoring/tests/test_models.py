"""Scoring models are checked before they are saved: errors name the part at fault."""

import json

import pytest

from leadcycle.scoring.models import ScoringModel

pytestmark = pytest.mark.django_db
URL = "/api/v1/scoring/models"

DECISION_MAKERS = {
    "name": "Decision makers",
    "points": 30,
    "conditions": [
        {"entity": "contact", "where": [{"field": "role", "op": "eq", "value": "decision_maker"}]}
    ],
}


def create(client, **body):
    data = {"name": "Webinar model", "rules": [DECISION_MAKERS], **body}
    return client.post(URL, json.dumps(data), content_type="application/json")


def field_error(response):
    assert response.status_code == 422, response.content
    ((name, detail),) = response.json()["error"]["fields"].items()
    return name, detail["code"]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {
                            "entity": "contact",
                            "where": [{"field": "salary", "op": "eq", "value": "1"}],
                        }
                    ],
                }
            ],
            ("rules.0.conditions.0.where.0.field", "unknown_field"),
        ),
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {
                            "entity": "contact",
                            "where": [{"field": "role", "op": "like", "value": "x"}],
                        }
                    ],
                }
            ],
            ("rules.0.conditions.0.where.0.op", "unknown_operator"),
        ),
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {
                            "entity": "account",
                            "where": [{"field": "employees", "op": "gt", "value": "many"}],
                        }
                    ],
                }
            ],
            ("rules.0.conditions.0.where.0.value", "type_mismatch"),
        ),
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {
                            "entity": "account",
                            "where": [{"field": "employees", "op": "contains", "value": "1"}],
                        }
                    ],
                }
            ],
            ("rules.0.conditions.0.where.0.op", "type_mismatch"),
        ),
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [{"entity": "interaction", "kind": "email_teleported"}],
                }
            ],
            ("rules.0.conditions.0.kind", "unknown_kind"),
        ),
        (
            [{"name": "x", "points": 1, "conditions": [{"entity": "opportunity"}]}],
            ("rules.0.conditions.0.entity", "unknown_entity"),
        ),
        (
            [
                DECISION_MAKERS,
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {"entity": "interaction", "kind": "email_opened", "frequency": "sometimes"}
                    ],
                },
            ],
            ("rules.1.conditions.0.frequency", "unknown_frequency"),
        ),
        (
            [
                {
                    "name": "x",
                    "points": 1,
                    "conditions": [
                        {"entity": "interaction", "kind": "email_opened", "frequency": "each"},
                        {"entity": "interaction", "kind": "email_clicked", "frequency": "each"},
                    ],
                }
            ],
            ("rules.0.conditions", "several_each"),
        ),
        (
            [{"name": "x", "points": "ten", "conditions": [{"entity": "lead"}]}],
            ("rules.0.points", "invalid"),
        ),
    ],
)
def test_a_model_that_does_not_compile_is_refused(api_client, rules, expected):
    response = create(api_client("marketer"), rules=rules)
    assert field_error(response) == expected
    assert not ScoringModel.objects.exists()


def test_an_account_model_cannot_look_at_a_parent_contact(api_client):
    response = create(api_client("marketer"), target="account")
    assert field_error(response) == ("rules.0.conditions.0.entity", "unknown_entity")


@pytest.mark.parametrize(
    ("grades", "code"),
    [
        (
            [{"name": "Cold", "min": 0, "max": 30}, {"name": "Warm", "min": 25, "max": 60}],
            "overlapping_grades",
        ),
        (
            [{"name": "Cold", "min": 0, "max": 30}, {"name": "Warm", "min": 40, "max": 60}],
            "gap_in_grades",
        ),
        ([{"name": "Cold", "min": 30, "max": 0}], "empty_range"),
    ],
)
def test_grades_must_be_continuous_and_not_overlap(api_client, grades, code):
    response = create(api_client("marketer"), grades=grades)
    assert field_error(response)[1] == code


def test_a_good_model_is_saved_as_a_draft_with_its_rules(api_client):
    grades = [{"name": "Cold", "min": 0, "max": 25}, {"name": "Warm", "min": 26, "max": 60}]
    response = create(api_client("marketer"), grades=grades, sales_ready_score=60)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["version"], body["sales_ready_score"]) == ("draft", 1, 60)
    assert [r["name"] for r in body["rules"]] == ["Decision makers"]


def test_only_marketers_and_administrators_build_models(api_client):
    for role in ("telemarketer", "seller", "sales_manager"):
        assert create(api_client(role)).status_code == 403
        assert api_client(role).get(URL).status_code == 200


def test_a_model_without_rules_cannot_go_live(api_client):
    client = api_client("marketer")
    model = create(client, rules=[]).json()
    response = client.post(f"{URL}/{model['id']}/go-live")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "model_has_no_rules"
