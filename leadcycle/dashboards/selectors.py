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
