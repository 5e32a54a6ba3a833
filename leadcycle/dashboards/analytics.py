"""The numbers behind the role dashboards (LC-7): a fixed, small number of aggregate queries
each, whatever the data size (the stage-time medians read at most ``VISIT_SAMPLE`` visits)."""

import datetime
import statistics
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from leadcycle.crm.models import Lead, Opportunity

VISIT_SAMPLE = 50_000


def leads_by_channel_per_week(weeks: int = 8) -> tuple[list[tuple[str, dict[str, int]]], list[str]]:
    """New leads per week (Monday) and source channel, oldest week first."""
    now = timezone.now()
    start = (now - datetime.timedelta(weeks=weeks - 1)).date()
    start -= datetime.timedelta(days=start.weekday())
    rows = (
        Lead.objects.filter(created_at__date__gte=start)
        .annotate(week=TruncWeek("created_at"))
        .values("week", "source_channel")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    by_week: dict[str, dict[str, int]] = {}
    for n in range(weeks):
        by_week[(start + datetime.timedelta(weeks=n)).isoformat()] = {}
    channels: list[str] = []
    for row in rows:
        week = row["week"].date().isoformat() if hasattr(row["week"], "date") else str(row["week"])
        by_week.setdefault(week, {})[row["source_channel"]] = row["n"]
        if row["source_channel"] not in channels:
            channels.append(row["source_channel"])
    return [(f"week of {week}", values) for week, values in sorted(by_week.items())], sorted(
        channels
    )


def score_distribution(buckets: int = 8) -> tuple[str, list[tuple[str, int]]]:
    """The first live lead model's scores in equal-width buckets."""
    from leadcycle.scoring.models import LeadScore, ScoringModel

    model = ScoringModel.objects.filter(status="live").order_by("id").first()
    if model is None:
        return "", []
    counts = list(
        LeadScore.objects.filter(model=model).values("score").annotate(n=Count("id")).order_by()
    )
    if not counts:
        return model.name, []
    low = min(row["score"] for row in counts)
    high = max(row["score"] for row in counts)
    width = max(1, -(-(high - low + 1) // buckets))
    totals = [0] * buckets
    for row in counts:
        totals[min((row["score"] - low) // width, buckets - 1)] += row["n"]
    return model.name, [
        (f"{low + n * width} to {low + (n + 1) * width - 1}", totals[n]) for n in range(buckets)
    ]


def segment_sizes(limit: int = 8) -> list[tuple[str, int]]:
    from leadcycle.segments.models import Segment

    return list(
        Segment.objects.filter(status="live").order_by("-member_count", "name")
        .values_list("name", "member_count")[:limit]
    )  # fmt: skip


def funnel(days: int = 90) -> list[dict[str, Any]]:
    """Leads created in the last ``days``: how many were scored, became sales-ready (ticked, or
    reached a sales stage), were accepted by sales, became opportunities — with the rate from
    each step to the next. One query."""
    from leadcycle.process.models import ProcessInstance, StageVisit
    from leadcycle.scoring.models import LeadScore

    since = timezone.now() - datetime.timedelta(days=days)
    scored = Exists(LeadScore.objects.filter(lead_id=OuterRef("pk")))
    in_sales = Exists(
        StageVisit.objects.filter(instance__lead_id=OuterRef("pk"), stage__queue="sales")
    )
    accepted = Exists(
        ProcessInstance.objects.filter(lead_id=OuterRef("pk"), values__sales_accepted=True)
    )
    has_opportunity = Exists(Opportunity.objects.filter(lead_id=OuterRef("pk")))
    # Each step counts the leads that reached it or any later one (a lead marked sales-ready
    # by hand has passed "scored" too): the funnel narrows, rates stay at or under 100 %.
    reached_opportunity = Q(has_opportunity)
    reached_accepted = Q(accepted) | reached_opportunity
    reached_ready = Q(sales_ready=True) | Q(in_sales) | reached_accepted
    reached_scored = Q(scored) | reached_ready
    counts = Lead.objects.filter(created_at__gte=since).aggregate(
        n_leads=Count("id"),
        n_scored=Count("id", filter=reached_scored),
        n_ready=Count("id", filter=reached_ready),
        n_accepted=Count("id", filter=reached_accepted),
        n_opportunity=Count("id", filter=reached_opportunity),
    )
    steps = [("Leads", "n_leads"), ("Scored", "n_scored"), ("Sales-ready", "n_ready"),
             ("Accepted by sales", "n_accepted"), ("Opportunity", "n_opportunity")]  # fmt: skip
    result = []
    previous: int | None = None
    for label, key in steps:
        value = counts[key] or 0
        rate: float | None = (
            None if previous is None else (value / previous * 100 if previous else 0.0)
        )
        result.append({"step": label, "count": value, "rate": rate})
        previous = value
    return result


def median_days_in_stage(days: int = 90) -> list[tuple[str, float, int]]:
    """(stage, median days spent, stays measured) over the stays of the last ``days`` (the
    newest ``VISIT_SAMPLE``), in the default process's stage order. A stay still going counts
    up to now: leads stuck in a stage are what this chart is for."""
    from leadcycle.process.models import Stage, StageVisit

    now = timezone.now()
    since = now - datetime.timedelta(days=days)
    still_there = Q(left_at__isnull=True, instance__active=True, instance__finished_at__isnull=True)
    visits = (
        StageVisit.objects.filter(Q(left_at__gte=since) | still_there)
        .order_by("-id")
        .values_list("stage_id", "entered_at", "left_at")[:VISIT_SAMPLE]
    )
    spans: dict[int, list[float]] = {}
    for stage_id, entered, left in visits:
        spans.setdefault(stage_id, []).append(((left or now) - entered).total_seconds() / 86_400)
    stages = Stage.objects.filter(pk__in=spans).select_related("process")
    ordered = sorted(stages, key=lambda s: (not s.process.is_default, s.process_id, s.position))
    return [(s.name, statistics.median(spans[s.pk]), len(spans[s.pk])) for s in ordered]


def my_pipeline(user_id: int) -> list[tuple[str, float]]:
    """A seller's open opportunities: value per stage."""
    labels = dict(Opportunity.Stage.choices)
    rows = (
        Opportunity.objects.filter(owner_id=user_id)
        .exclude(stage__in=["won", "lost"])
        .values("stage")
        .annotate(total=Sum("value"))
    )
    totals = {row["stage"]: float(row["total"] or 0) for row in rows}
    return [(labels[s], totals.get(s, 0.0)) for s in ("qualify", "develop", "propose")]


def telemarketing_stages() -> list[tuple[str, int]]:
    """Open leads waiting at each telemarketing stage."""
    from leadcycle.process.models import ProcessInstance

    rows = (
        ProcessInstance.objects.filter(
            active=True, finished_at__isnull=True, stage__queue="telemarketing",
            lead__status=Lead.Status.OPEN,
        )
        .values("stage__name", "stage__position")
        .annotate(n=Count("id"))
        .order_by("stage__position")
    )  # fmt: skip
    return [(row["stage__name"], row["n"]) for row in rows]
