"""Trying a draft model on past data: what it would have made sales-ready, and what became of
those leads."""

import datetime
import json

import pytest
from django.utils import timezone

from leadcycle.crm.models import Lead, Opportunity
from leadcycle.scoring.models import LeadScore
from leadcycle.scoring.services import scoring_model_create
from leadcycle.testing.factories import ContactFactory, InteractionFactory, LeadFactory

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
    },
    {
        "name": "Each click",
        "points": 10,
        "conditions": [{"entity": "interaction", "kind": "email_clicked", "frequency": "each"}],
    },
]


def days_ago(n):
    return timezone.now() - datetime.timedelta(days=n)


def lead_created(days, **kwargs):
    lead = LeadFactory(**kwargs)
    Lead.objects.filter(pk=lead.pk).update(created_at=days_ago(days))
    return lead


@pytest.fixture
def history():
    """Thirty days ago: Ada (a decision maker who had clicked) would have reached 40 and has an
    opportunity since; Bob (a decision maker, no click) 30; Cleo clicked only last week;
    Dan's lead did not exist yet."""
    ada, bob = ContactFactory(role="decision_maker"), ContactFactory(role="decision_maker")
    cleo, dan = ContactFactory(role="influencer"), ContactFactory(role="decision_maker")
    ada_lead = lead_created(60, parent_contact=ada, status="qualified")
    opportunity = Opportunity.objects.create(name="Ada's deal", lead=ada_lead, contact=ada)
    Opportunity.objects.filter(pk=opportunity.pk).update(created_at=days_ago(10))
    lead_created(60, parent_contact=bob)
    lead_created(60, parent_contact=cleo)
    lead_created(5, parent_contact=dan)
    InteractionFactory(contact=ada, kind="email_clicked", occurred_at=days_ago(40))
    InteractionFactory(contact=cleo, kind="email_clicked", occurred_at=days_ago(5))
    InteractionFactory(contact=cleo, kind="email_clicked", occurred_at=days_ago(4))
    InteractionFactory(contact=cleo, kind="email_clicked", occurred_at=days_ago(3))
    InteractionFactory(contact=cleo, kind="email_clicked", occurred_at=days_ago(2))
    return scoring_model_create(
        by=None, data={"name": "Draft", "rules": RULES, "sales_ready_score": 35}
    )


def test_a_backtest_counts_what_the_model_would_have_done(api_client, history):
    as_of = days_ago(30).isoformat()
    response = api_client("marketer").post(
        f"/api/v1/scoring/models/{history.pk}/backtest",
        json.dumps({"as_of": as_of}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["leads_scored"],
        body["sales_ready"],
        body["sales_ready_became_opportunities"],
    ) == (3, 1, 1)
    assert body["conversion"] == 1.0 and body["all_became_opportunities"] == 1
    assert not LeadScore.objects.exists()  # nothing written


def test_a_backtest_needs_a_past_time(api_client, history):
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = api_client("marketer").post(
        f"/api/v1/scoring/models/{history.pk}/backtest",
        json.dumps({"as_of": future}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["as_of"]["code"] == "in_future"


def test_the_model_page_shows_a_backtest(ui_client, history):
    page = ui_client("marketer").get(f"/scoring/{history.pk}/").content.decode()
    assert 'id="backtest-card"' in page
    day = days_ago(30).date().isoformat()
    result = ui_client("seller").post(f"/scoring/{history.pk}/backtest/", {"as_of": day})
    html = result.content.decode()
    assert result.status_code == 200
    assert 'id="backtest-ready">1<' in html and "1 (100 %)" in html
    bad = ui_client("seller").post(f"/scoring/{history.pk}/backtest/", {"as_of": "soon"})
    assert bad.status_code == 422 and "Choose a date." in bad.content.decode()
