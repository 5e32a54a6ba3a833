"""Reads for the CRM records: list specs (shared by UI and API), lookups and the 360° view."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from leadcycle.crm.listing import BOOL, DATE, DECIMAL, INT, Filter, ListSpec
from leadcycle.crm.models import Account, Channel, Contact, Interaction, Lead, Opportunity, Task


def _in_queue(queue: str) -> Q:
    """Open leads standing at a stage of this queue (SPEC §6)."""
    from django.db.models import Exists, OuterRef

    from leadcycle.process.models import ProcessInstance

    standing = ProcessInstance.objects.filter(
        lead_id=OuterRef("pk"), active=True, finished_at__isnull=True, stage__queue=queue
    )
    return Q(Exists(standing), status=Lead.Status.OPEN)


ACCOUNT_LIST = ListSpec(
    model=Account,
    search_fields=("name", "web_domain", "industry", "country"),
    filters={
        "industry": Filter("industry__iexact", label="Industry"),
        "country": Filter("country__iexact", label="Country"),
        "owner": Filter("owner_id", INT, label="Owner", null_word="none"),
        "min_employees": Filter("employees__gte", INT, label="Employees at least"),
    },
    sort_fields=(
        "name",
        "web_domain",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "created_at",
        "updated_at",
    ),
    default_sort="name",
    select_related=("owner",),
)

CONTACT_LIST = ListSpec(
    model=Contact,
    search_fields=("first_name", "last_name", "email_normalized", "job_title", "account__name"),
    filters={
        "account": Filter("account_id", INT, label="Account", null_word="none"),
        "role": Filter("role", choices=tuple(Contact.Role.values), label="Role"),
        "country": Filter("country__iexact", label="Country"),
        "marketing_only": Filter("marketing_only", BOOL, label="Marketing-only"),
        "consent": Filter("consent", choices=tuple(Contact.Consent.values), label="Consent"),
        "origin_channel": Filter("origin_channel", choices=tuple(Channel.values), label="Origin"),
        "owner": Filter("owner_id", INT, label="Owner", null_word="none"),
        "created_after": Filter("created_at__date__gte", DATE, label="Created on or after"),
    },
    sort_fields=(
        "last_name",
        "first_name",
        "email_normalized",
        "job_title",
        "country",
        "created_at",
        "updated_at",
    ),
    default_sort="last_name",
    select_related=("account", "owner"),
)

LEAD_LIST = ListSpec(
    model=Lead,
    search_fields=(
        "topic",
        "campaign",
        "parent_contact__email_normalized",
        "parent_contact__last_name",
        "parent_account__name",
    ),
    filters={
        "status": Filter("status", choices=tuple(Lead.Status.values), label="Status"),
        "sales_ready": Filter("sales_ready", BOOL, label="Sales-ready"),
        "telemarketing_ready": Filter("telemarketing_ready", BOOL, label="Telemarketing-ready"),
        "source_channel": Filter("source_channel", choices=tuple(Channel.values), label="Source"),
        "parent_contact": Filter("parent_contact_id", INT, label="Contact", null_word="none"),
        "parent_account": Filter("parent_account_id", INT, label="Account", null_word="none"),
        "campaign": Filter("campaign__iexact", label="Campaign"),
        "owner": Filter("owner_id", INT, label="Owner", null_word="none"),
        "created_after": Filter("created_at__date__gte", DATE, label="Created on or after"),
        "queue": Filter(
            "", choices=("telemarketing", "sales"), label="Queue", condition=lambda v: _in_queue(v)
        ),
    },
    sort_fields=("topic", "status", "campaign", "created_at", "updated_at"),
    default_sort="-created_at",
    select_related=("parent_contact", "parent_account", "owner"),
)

OPPORTUNITY_LIST = ListSpec(
    model=Opportunity,
    search_fields=("name", "account__name", "contact__last_name", "contact__email_normalized"),
    filters={
        "stage": Filter("stage", choices=tuple(Opportunity.Stage.values), label="Stage"),
        "account": Filter("account_id", INT, label="Account", null_word="none"),
        "contact": Filter("contact_id", INT, label="Contact", null_word="none"),
        "owner": Filter("owner_id", INT, label="Owner", null_word="none"),
        "min_value": Filter("value__gte", DECIMAL, label="Value at least"),
    },
    sort_fields=("name", "value", "stage", "expected_close", "created_at", "updated_at"),
    default_sort="-created_at",
    select_related=("account", "contact", "owner", "lead"),
)

TASK_LIST = ListSpec(
    model=Task,
    search_fields=("subject", "lead__topic", "contact__last_name"),
    filters={
        "kind": Filter("kind", choices=tuple(Task.Kind.values), label="Kind"),
        "done": Filter("done", BOOL, label="Done"),
        "queue": Filter("queue", choices=tuple(Task.Queue.values), label="Queue"),
        "assignee": Filter("assignee_id", INT, label="Assignee", null_word="none"),
        "lead": Filter("lead_id", INT, label="Lead"),
        "contact": Filter("contact_id", INT, label="Contact"),
        "due_before": Filter("due_at__date__lte", DATE, label="Due on or before"),
    },
    sort_fields=("subject", "kind", "due_at", "done", "created_at", "updated_at"),
    default_sort="due_at",
    select_related=("assignee", "lead", "contact"),
)

INTERACTION_LIST = ListSpec(
    model=Interaction,
    search_fields=("campaign",),
    filters={
        "kind": Filter("kind", label="Kind"),
        "contact": Filter("contact_id", INT, label="Contact"),
        "lead": Filter("lead_id", INT, label="Lead"),
        "anonymous": Filter("contact__isnull", BOOL, label="Anonymous visitors"),
        "visitor": Filter("visitor_id", label="Visitor id"),
    },
    sort_fields=("occurred_at", "kind"),
    default_sort="-occurred_at",
    select_related=("contact", "lead"),
)


@dataclass(frozen=True)
class Contact360:
    """Everything about one person across campaigns and products."""

    contact: Contact
    leads: list[Lead]
    opportunities: list[Opportunity]
    interactions: list[Interaction]
    interaction_count: int
    tasks: list[Task]


def contact_360(*, contact: Contact, interactions_limit: int = 100) -> Contact360:
    """The contact's account, every lead, opportunity, interaction (newest first) and task."""
    interactions = contact.interactions.select_related("lead")
    return Contact360(
        contact=contact,
        leads=list(contact.leads.select_related("parent_account", "owner").order_by("-created_at")),
        opportunities=list(contact.opportunities.select_related("account", "owner")),
        interactions=list(interactions.order_by("-occurred_at", "-id")[:interactions_limit]),
        interaction_count=interactions.count(),
        tasks=list(
            Task.objects.filter(Q(contact=contact) | Q(lead__parent_contact=contact))
            .select_related("assignee", "lead")
            .distinct()
        ),
    )


def lead_context(*, lead: Lead) -> dict[str, object]:
    """What the lead page shows beside the lead: other leads of its contact, interactions, tasks,
    and its scores."""
    from leadcycle.scoring.selectors import lead_scores

    siblings: QuerySet[Lead] = Lead.objects.none()
    if lead.parent_contact_id:
        siblings = Lead.objects.filter(parent_contact_id=lead.parent_contact_id).exclude(pk=lead.pk)
    return {
        "other_leads": list(siblings.order_by("-created_at")[:20]),
        "interactions": list(lead.interactions.order_by("-occurred_at", "-id")[:50]),
        "tasks": list(lead.tasks.select_related("assignee")),
        "opportunity": Opportunity.objects.filter(lead=lead).first(),
        "scores": lead_scores(lead=lead),
    }


def account_summary(*, account: Account) -> dict[str, object]:
    """An account's contacts, leads and opportunities, with lead counts per contact."""
    return {
        "contacts": list(
            account.contacts.annotate(open_leads=Count("leads", filter=Q(leads__status="open")))
        ),
        "leads": list(account.leads.select_related("parent_contact").order_by("-created_at")[:50]),
        "opportunities": list(account.opportunities.select_related("contact")),
    }
