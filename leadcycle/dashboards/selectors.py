"""What the home dashboard shows, per role."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Q, Sum

from leadcycle.crm.models import Contact, Lead, Opportunity, Task
from leadcycle.users.permissions import can


def dashboard_for(*, user: User) -> dict[str, Any]:
    """Counts and work lists the user's role may see."""
    data: dict[str, Any] = {}
    if can(user, "view", Lead):
        # Result names must not shadow Lead fields used in the filters (Django refuses).
        counts = Lead.objects.aggregate(
            n_open=Count("id", filter=Q(status="open")),
            n_sales_ready=Count("id", filter=Q(status="open", sales_ready=True)),
            n_telemarketing=Count(
                "id", filter=Q(status="open", telemarketing_ready=True, sales_ready=False)
            ),
            n_orphans=Count("id", filter=Q(status="open", parent_contact__isnull=True)),
        )
        data["lead_counts"] = {key.removeprefix("n_"): value for key, value in counts.items()}
        data["sales_ready_leads"] = list(
            Lead.objects.filter(status="open", sales_ready=True)
            .select_related("parent_contact", "parent_account")
            .order_by("-updated_at")[:10]
        )
        data["recent_leads"] = list(
            Lead.objects.select_related("parent_contact").order_by("-created_at")[:10]
        )
        data.update(_process_lists(user))
        data["charts"] = _charts(user)
    if can(user, "view", Contact):
        data["contact_count"] = Contact.objects.count()
    if can(user, "view", Opportunity):
        data["pipeline"] = list(
            Opportunity.objects.exclude(stage__in=["won", "lost"])
            .values("stage")
            .annotate(n=Count("id"), value=Sum("value"))
            .order_by("stage")
        )
    if can(user, "view", Task):
        data["my_tasks"] = list(
            Task.objects.filter(assignee=user, done=False)  # type: ignore[misc]
            .select_related("lead", "contact")
            .order_by("due_at")[:10]
        )
    return data


def _process_lists(user: User) -> dict[str, Any]:
    """The business-process work lists of the user's roles (SPEC §6): a telemarketer's queue,
    a seller's accepted sales-ready leads, a manager's leads waiting for a seller (oldest
    first)."""
    from leadcycle.process.selectors import queue
    from leadcycle.users.roles import ADMINISTRATOR, SALES_MANAGER, SELLER, TELEMARKETER

    roles = set(user.groups.values_list("name", flat=True))
    lists: dict[str, Any] = {}
    if roles & {TELEMARKETER, ADMINISTRATOR}:
        lists["telemarketing_queue"] = queue("telemarketing", limit=10)
    if SELLER in roles:
        lists["my_sales_ready"] = queue("sales", owner=user, limit=10)
    if roles & {SALES_MANAGER, ADMINISTRATOR}:
        lists["unassigned_sales_ready"] = queue("sales", unaccepted=True, limit=10)
    return lists


def _charts(user: User) -> list[dict[str, Any]]:
    """The charts of the user's roles (LC-7): marketers see new leads by channel per week, the
    score distribution and segment sizes; telemarketers the telemarketing stages; sellers their
    pipeline; managers the funnel with conversion rates and the median time in each stage."""
    from leadcycle.dashboards import analytics, charts
    from leadcycle.users.roles import (
        ADMINISTRATOR,
        MARKETER,
        SALES_MANAGER,
        SELLER,
        TELEMARKETER,
    )

    roles = set(user.groups.values_list("name", flat=True))
    shown: list[dict[str, Any]] = []
    if roles & {MARKETER, ADMINISTRATOR}:
        weeks, channels = analytics.leads_by_channel_per_week()
        shown.append(
            {
                "id": "chart-channels",
                "title": "New leads by channel, per week",
                "svg": charts.stacked(weeks, channels, title="New leads by channel"),
            }
        )
        model, buckets = analytics.score_distribution()
        if buckets:
            shown.append(
                {
                    "id": "chart-scores",
                    "title": f"Score distribution ({model})",
                    "svg": charts.bars(buckets, title="Leads per score range"),
                }
            )
        sizes = analytics.segment_sizes()
        if sizes:
            shown.append(
                {
                    "id": "chart-segments",
                    "title": "Live segment sizes",
                    "svg": charts.bars(sizes, title="Members per segment"),
                }
            )
    if TELEMARKETER in roles:
        stages = analytics.telemarketing_stages()
        shown.append(
            {
                "id": "chart-telemarketing",
                "title": "Waiting at telemarketing stages",
                "svg": charts.bars(stages, title="Open leads per telemarketing stage"),
            }
        )
    if SELLER in roles:
        shown.append(
            {
                "id": "chart-pipeline",
                "title": "My open pipeline (value)",
                "svg": charts.bars(analytics.my_pipeline(user.pk), title="Value per stage"),
            }
        )
    if roles & {SALES_MANAGER, ADMINISTRATOR}:
        steps = analytics.funnel()
        notes = ["" if s["rate"] is None else f"{s['rate']:.0f}% of the step before" for s in steps]
        shown.append(
            {
                "id": "chart-funnel",
                "title": "Funnel: leads of the last 90 days",
                "svg": charts.bars(
                    [(s["step"], s["count"]) for s in steps], title="Lead funnel", notes=notes
                ),
            }
        )
        medians = analytics.median_days_in_stage()
        if medians:
            shown.append(
                {
                    "id": "chart-stage-time",
                    "title": "Median days in each stage",
                    "svg": charts.bars(
                        [(name, round(days, 1)) for name, days, _ in medians],
                        title="Median days per stage",
                        unit=" d",
                        notes=[f"{n} stays" for _, _, n in medians],
                    ),
                }
            )
    return shown
