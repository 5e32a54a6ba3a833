"""Scores as a marketer sees them: computed for every eligible lead when a model goes live,
followed in near real time, explained rule by rule, and making leads sales-ready."""

import datetime

import pytest
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Lead
from leadcycle.crm.services import ContactWithLeads, contact_update, contacts_with_leads_create_bulk
from leadcycle.interactions.services import interactions_ingest
from leadcycle.scoring.events import lead_sales_ready
from leadcycle.scoring.models import LeadScore, LeadScoreChange
from leadcycle.scoring.services import (
    leads_rescore,
    model_recompute,
    scoring_model_create,
    scoring_model_go_live,
    scoring_model_stop,
    scoring_model_update,
)
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    LeadFactory,
)

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
        "name": "Each email click in the last 30 days",
        "points": 10,
        "conditions": [
            {
                "entity": "interaction",
                "kind": "email_clicked",
                "frequency": "each",
                "within_days": 30,
            }
        ],
    },
    {
        "name": "Software companies",
        "points": 5,
        "conditions": [
            {"entity": "account", "where": [{"field": "industry", "op": "eq", "value": "software"}]}
        ],
    },
    {
        "name": "Never opened an email",
        "points": -5,
        "conditions": [{"entity": "interaction", "kind": "email_opened", "frequency": "none"}],
    },
]
GRADES = [
    {"name": "Cold", "min": -100, "max": 25},
    {"name": "Warm", "min": 26, "max": 49},
    {"name": "Hot", "min": 50, "max": 10_000},
]


def live_model(**overrides):
    data = {"name": "Webinar model", "rules": RULES, "grades": GRADES, "sales_ready_score": 50}
    model = scoring_model_create(by=None, data={**data, **overrides})
    return scoring_model_go_live(model=model, by=None)


def score_of(lead, model=None):
    row = LeadScore.objects.filter(lead=lead, **({"model": model} if model else {})).first()
    return row.score if row else None


def clicks(contact, n, *, days_ago=1):
    for _ in range(n):
        InteractionFactory(
            contact=contact,
            kind="email_clicked",
            occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
        )


def test_going_live_scores_every_eligible_lead(django_capture_on_commit_callbacks):
    # Given a decision maker at a software company with 2 recent clicks and 1 old one
    software = AccountFactory(industry="Software")
    ada = ContactFactory(role="decision_maker", account=software)
    clicks(ada, 2)
    clicks(ada, 1, days_ago=90)
    InteractionFactory(contact=ada, kind="email_opened")
    ada_lead = LeadFactory(parent_contact=ada)
    # and an influencer who never opened an email
    bob_lead = LeadFactory(parent_contact=ContactFactory(role="influencer"))
    orphan = LeadFactory(parent_contact=None, parent_account=None)
    closed = LeadFactory(parent_contact=ada, status="disqualified")
    # When the model goes live (its full recompute runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        model = live_model()
    # Then each eligible open lead has its score, grade and the model's version
    ada_score = LeadScore.objects.get(lead=ada_lead)
    assert (ada_score.score, ada_score.grade, ada_score.model_version) == (30 + 20 + 5, "Hot", 1)
    assert score_of(bob_lead) == -5 and LeadScore.objects.get(lead=bob_lead).grade == "Cold"
    assert score_of(orphan) is None and score_of(closed) is None
    # And the lead that reached 50 became sales-ready, with an audit entry saying why
    ada_lead.refresh_from_db()
    assert ada_lead.sales_ready is True
    assert not Lead.objects.get(pk=bob_lead.pk).sales_ready
    entry = AuditEntry.objects.get(record_type="crm.lead", record_id=ada_lead.pk, action="update")
    assert entry.changes["sales_ready"] == [False, True] and "Webinar model" in entry.changes["by"]
    assert model.status == "live"


def test_account_based_leads_count_every_contact_of_the_account(django_capture_on_commit_callbacks):
    software = AccountFactory(industry="Software")
    clicks(ContactFactory(account=software), 1)
    clicks(ContactFactory(account=software), 2)
    InteractionFactory(contact=ContactFactory(account=software), kind="email_opened")
    account_lead = LeadFactory(parent_contact=None, parent_account=software)
    rules = [r for r in RULES if r["name"] != "Decision makers"]
    with django_capture_on_commit_callbacks(execute=True):
        model = live_model(name="Accounts", target="account", rules=rules)
    assert score_of(account_lead, model) == 3 * 10 + 5  # opened once: no -5


def test_a_new_interaction_rescores_the_lead_in_near_real_time(django_capture_on_commit_callbacks):
    ada = ContactFactory(role="decision_maker")
    InteractionFactory(contact=ada, kind="email_opened")
    lead = LeadFactory(parent_contact=ada)
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    assert score_of(lead) == 30
    received = []

    def listener(sender, lead_ids, model_id, **kwargs):
        received.extend(lead_ids)

    lead_sales_ready.connect(listener)
    try:
        # When two clicks arrive through the ingestion API
        with django_capture_on_commit_callbacks(execute=True):
            interactions_ingest(
                events=[{"kind": "email_clicked", "contact_id": ada.pk} for _ in range(2)]
            )
    finally:
        lead_sales_ready.disconnect(listener)
    # Then the score follows, the change is in the history and the lead is sales-ready
    assert score_of(lead) == 50
    history = list(LeadScoreChange.objects.filter(lead=lead).values_list("old_score", "new_score"))
    assert history == [(30, 50)]  # the first score is no change
    assert Lead.objects.get(pk=lead.pk).sales_ready and received == [lead.pk]


def test_a_changed_contact_field_rescores_its_leads(django_capture_on_commit_callbacks):
    ada = ContactFactory(role="influencer")
    InteractionFactory(contact=ada, kind="email_opened")
    lead = LeadFactory(parent_contact=ada)
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    assert score_of(lead) == 0
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=ada, by=None, data={"role": "decision_maker"})
    assert score_of(lead) == 30


def test_leads_created_in_bulk_are_scored(django_capture_on_commit_callbacks):
    ada = ContactFactory(role="decision_maker", email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    rows = [
        ContactWithLeads({"email": "ADA@example.com "}, ["Demo"]),
        ContactWithLeads({"email": "new@example.com"}, ["Trial", "Pricing"]),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        contacts_with_leads_create_bulk(by=None, rows=rows)
    scores = sorted(
        LeadScore.objects.values_list("lead__parent_contact__email", "lead__topic", "score")
    )
    assert scores == [
        (ada.email, "Demo", 30 - 5),
        ("new@example.com", "Pricing", -5),
        ("new@example.com", "Trial", -5),
    ]


def test_changing_a_live_model_gives_a_new_version_and_new_scores(
    django_capture_on_commit_callbacks,
):
    lead = LeadFactory(parent_contact=ContactFactory(role="decision_maker"))
    with django_capture_on_commit_callbacks(execute=True):
        model = live_model()
    rules = [{**RULES[0], "points": 40}]
    with django_capture_on_commit_callbacks(execute=True):
        scoring_model_update(model=model, by=None, data={"rules": rules})
    row = LeadScore.objects.get(lead=lead)
    assert (row.score, row.model_version) == (40, 2)


def test_stopping_a_model_removes_its_scores_but_keeps_their_history(
    django_capture_on_commit_callbacks,
):
    lead = LeadFactory(parent_contact=ContactFactory(role="decision_maker"))
    with django_capture_on_commit_callbacks(execute=True):
        model = live_model()
    clicks(lead.parent_contact, 1)
    leads_rescore(lead_ids=[lead.pk])
    scoring_model_stop(model=model, by=None)
    assert not LeadScore.objects.exists()
    assert list(
        LeadScoreChange.objects.filter(lead=lead).values_list("old_score", "new_score")
    ) == [(25, 35)]


def test_a_lead_that_closes_loses_its_score_when_rescored(django_capture_on_commit_callbacks):
    lead = LeadFactory(parent_contact=ContactFactory(role="decision_maker"))
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    Lead.objects.filter(pk=lead.pk).update(status="qualified")
    leads_rescore(lead_ids=[lead.pk])
    assert score_of(lead) is None


def test_the_lead_api_explains_each_score(api_client, django_capture_on_commit_callbacks):
    ada = ContactFactory(role="decision_maker")
    clicks(ada, 3)
    lead = LeadFactory(parent_contact=ada)
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    response = api_client("seller").get(f"/api/v1/leads/{lead.pk}/scores")
    assert response.status_code == 200
    (score,) = response.json()
    assert (score["model"], score["score"], score["grade"]) == ("Webinar model", 55, "Hot")
    parts = {p["rule"]: (p["occurrences"], p["points"], p["total"]) for p in score["rules"]}
    assert parts == {
        "Decision makers": (1, 30, 30),
        "Each email click in the last 30 days": (3, 10, 30),
        "Software companies": (0, 5, 0),
        "Never opened an email": (1, -5, -5),
    }
    assert score["history"] == []  # scored once: no change yet


def test_the_lead_page_shows_the_scores_rule_by_rule(ui_client, django_capture_on_commit_callbacks):
    ada = ContactFactory(role="decision_maker")
    lead = LeadFactory(parent_contact=ada)
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    clicks(ada, 1)
    leads_rescore(lead_ids=[lead.pk])
    html = ui_client("seller").get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="lead-scores"' in html and "Webinar model" in html
    assert "Each email click in the last 30 days" in html and "<polyline" in html


def test_a_full_recompute_works_in_batches(django_capture_on_commit_callbacks, settings):
    from leadcycle.scoring.services import scoring_settings

    config = scoring_settings()
    config.rescore_batch_size = 2  # contacts per batch: three batches for five contacts
    config.save()
    leads = [LeadFactory(parent_contact=ContactFactory(role="decision_maker")) for _ in range(5)]
    orphan = LeadFactory(parent_contact=None, parent_account=None)
    model = live_model()
    LeadScore.objects.create(
        lead=orphan, model=model, score=1, model_version=1, computed_at=timezone.now(),
        changed_at=timezone.now() - datetime.timedelta(days=1),
    )  # fmt: skip
    model_recompute(model_id=model.pk, now=timezone.now() + datetime.timedelta(seconds=1))
    assert LeadScore.objects.filter(model=model, score=30 - 5).count() == len(leads)
    assert not LeadScore.objects.filter(lead=orphan).exists()  # a stale score is removed


def test_deleting_a_lead_deletes_its_scores_and_history(django_capture_on_commit_callbacks):
    from leadcycle.crm.services import lead_delete

    lead = LeadFactory(parent_contact=ContactFactory(role="decision_maker"))
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    clicks(lead.parent_contact, 1)
    leads_rescore(lead_ids=[lead.pk])
    assert LeadScore.objects.filter(lead=lead).exists()
    assert LeadScoreChange.objects.filter(lead=lead).exists()
    lead_delete(lead=lead, by=None)
    assert not LeadScore.objects.exists() and not LeadScoreChange.objects.exists()


def test_rescoring_many_leads_works_in_chunks(monkeypatch, django_capture_on_commit_callbacks):
    import leadcycle.scoring.services as services

    leads = [LeadFactory(parent_contact=ContactFactory(role="decision_maker")) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        live_model()
    LeadScore.objects.all().delete()
    monkeypatch.setattr(services, "RESCORE_CHUNK", 2)
    leads_rescore(lead_ids=[lead.pk for lead in leads])
    assert sorted(LeadScore.objects.values_list("lead_id", "score")) == [
        (lead.pk, 25) for lead in leads
    ]


@pytest.mark.django_db(transaction=True)
def test_an_interaction_recorded_outside_a_transaction_is_counted_at_once():
    from leadcycle.interactions.services import interaction_record

    ada = ContactFactory(role="decision_maker")
    InteractionFactory(contact=ada, kind="email_opened")
    lead = LeadFactory(parent_contact=ada)
    live_model()  # autocommit: its recompute runs at once (immediate task backend)
    assert score_of(lead) == 30
    interaction_record(kind="email_clicked", contact_id=ada.pk)
    assert score_of(lead) == 40
