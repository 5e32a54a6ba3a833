"""``leadcycle scoring recompute``: the nightly run that lets scores fall as interactions age."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from leadcycle.scoring.models import LeadScore, ScoringModel, ScoringRule
from leadcycle.testing.factories import ContactFactory, InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_recompute_lets_an_old_click_age_out():
    ada = ContactFactory()
    lead = LeadFactory(parent_contact=ada)
    click = InteractionFactory(contact=ada, kind="email_clicked", occurred_at=timezone.now())
    model = ScoringModel.objects.create(name="Clicks", status="live", sales_ready_score=100)
    ScoringRule.objects.create(
        model=model,
        name="Click in 30 days",
        points=10,
        conditions=[{"entity": "interaction", "kind": "email_clicked", "within_days": 30}],
    )
    out = StringIO()
    call_command("scoring", "recompute", stdout=out)
    assert LeadScore.objects.get(lead=lead).score == 10
    assert "Clicks (v1): 1 leads scored, 0 became sales-ready" in out.getvalue()
    # A month and a half later, the nightly run sees the click outside the window
    type(click).objects.filter(pk=click.pk).update(
        occurred_at=timezone.now() - datetime.timedelta(days=45)
    )
    call_command("scoring", "recompute", "--model", str(model.pk), stdout=StringIO())
    assert LeadScore.objects.get(lead=lead).score == 0


def test_recompute_without_a_live_model_fails_with_the_reason():
    with pytest.raises(CommandError, match="No live scoring model"):
        call_command("scoring", "recompute")
    with pytest.raises(CommandError, match="No live scoring model 99"):
        call_command("scoring", "recompute", "--model", "99")
