"""The role dashboards' charts: the numbers are written on the SVG (readable without hovering),
and each role sees its own."""

import datetime

import pytest
from django.utils import timezone

from leadcycle.crm.models import Lead
from leadcycle.dashboards import analytics
from leadcycle.process.services import stage_move, steps_set
from leadcycle.scoring.models import LeadScore, ScoringModel
from leadcycle.testing.factories import LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def card(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def scored(leads, scores):
    model = ScoringModel.objects.create(name="Clicks", status="live", version=1)
    now = timezone.now()
    for lead, score in zip(leads, scores, strict=True):
        LeadScore.objects.create(lead=lead, model=model, score=score, model_version=1,
                                 computed_at=now, changed_at=now)  # fmt: skip


def test_the_funnel_counts_each_step_with_its_conversion_rate(ui_client):
    leads = LeadFactory.create_batch(4)
    scored(leads[:3], [10, 20, 40])
    steps_set(lead=leads[0], by=None, values={"sales_ready": True})
    steps_set(lead=leads[1], by=None, values={"sales_ready": True})
    steps_set(lead=leads[0], by=None,
              values={"owner": UserFactory(role="seller").pk, "sales_accepted": True})  # fmt: skip
    OpportunityFactory(lead=leads[0])
    steps = analytics.funnel()
    assert [(s["step"], s["count"]) for s in steps] == [
        ("Leads", 4), ("Scored", 3), ("Sales-ready", 2), ("Accepted by sales", 1),
        ("Opportunity", 1),
    ]  # fmt: skip
    assert [round(s["rate"]) if s["rate"] is not None else None for s in steps] == [
        None, 75, 67, 50, 100,
    ]  # fmt: skip
    page = ui_client("sales_manager").get("/").content.decode()
    funnel = card(page, "chart-funnel")
    assert (
        "<svg" in funnel and ">Scored</text>" in funnel and "3 · 75% of the step before" in funnel
    )


def test_median_days_in_stage_counts_ended_stays_and_the_ones_still_going():
    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"sales_ready": True})  # leaves Inquiry
    from leadcycle.process.models import StageVisit

    inquiry = StageVisit.objects.get(stage__key="inquiry")
    StageVisit.objects.filter(pk=inquiry.pk).update(
        entered_at=inquiry.left_at - datetime.timedelta(days=3)
    )
    first = lead.process_instances.get().process.stages.get(key="inquiry")
    stage_move(lead=lead, by=None, stage_id=first.pk)  # leaves Sales acceptance
    medians = {name: (round(days, 1), n) for name, days, n in analytics.median_days_in_stage()}
    # Inquiry: the 3-day stay, and the stay it is in again now (counted up to now)
    assert medians == {"Inquiry": (1.5, 2), "Sales acceptance": (0.0, 1)}


def test_marketers_see_channels_scores_and_segments(ui_client):
    from leadcycle.segments.models import Segment

    LeadFactory.create_batch(3, source_channel="form")
    LeadFactory(source_channel="event")
    scored(list(Lead.objects.all()), [0, 5, 50, 95])
    Segment.objects.create(name="Nordics", status="live", member_count=1200, query={})
    page = ui_client("marketer").get("/").content.decode()
    channels = card(page, "chart-channels")
    assert ">form</text>" in channels and ">event</text>" in channels and ">4</text>" in channels
    assert "Score distribution (Clicks)" in page
    segments = card(page, "chart-segments")
    assert ">Nordics</text>" in segments and "1,200" in segments
    assert 'id="chart-funnel"' not in page


def test_sellers_and_telemarketers_see_their_own(ui_client, role_user):
    seller = role_user("seller")
    OpportunityFactory(owner=seller, stage="develop", value=12000)
    lead = LeadFactory()
    steps_set(lead=lead, by=None, values={"telemarketing_ready": True})
    page = ui_client("seller").get("/").content.decode()
    assert "12,000" in card(page, "chart-pipeline") and 'id="chart-funnel"' not in page
    tm = ui_client("telemarketer").get("/").content.decode()
    assert ">Telemarketing acceptance</text>" in card(tm, "chart-telemarketing")


def test_a_later_step_counts_as_having_passed_the_earlier_ones():
    hand = LeadFactory()
    steps_set(lead=hand, by=None, values={"sales_ready": True})  # sales-ready, never scored
    counts = [s["count"] for s in analytics.funnel()]
    assert counts == [1, 1, 1, 0, 0]
    assert all(s["rate"] is None or s["rate"] <= 100 for s in analytics.funnel())
