"""A realistic, deterministic demo dataset, written in bulk.

The same seed and size always give the same accounts, contacts, leads, opportunities,
interactions (spread over two years) and tasks. Used by ``leadcycle demo``.
"""

import datetime
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from leadcycle.audit.services import audit_bulk_create
from leadcycle.crm.models import Account, Channel, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.crm.normalize import normalize_email
from leadcycle.users.roles import ROLES, SALES_MANAGER

DEMO_PASSWORD_SUFFIX = "-demo-2026"
DEMO_USERS = {
    "admin": "administrator",
    "marketer": "marketer",
    "telemarketer": "telemarketer",
    "seller": "seller",
    "manager": SALES_MANAGER,
}

FIRST = [
    "Anna",
    "Erik",
    "Maja",
    "Lars",
    "Sofia",
    "Jan",
    "Ewa",
    "Piotr",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Zofia",
    "Karl",
    "Ingrid",
    "Marta",
    "Tomasz",
    "Freja",
    "Oskar",
    "Alice",
    "Hugo",
    "Agnieszka",
    "Nils",
    "Elsa",
    "Mateusz",
    "Julia",
    "Viktor",
    "Clara",
    "David",
    "Sara",
]
LAST = [
    "Andersson",
    "Johansson",
    "Nowak",
    "Kowalski",
    "Smith",
    "Jones",
    "Nilsson",
    "Lindqvist",
    "Wiśniewski",
    "Müller",
    "Schmidt",
    "Berg",
    "Dąbrowski",
    "Larsson",
    "Olsen",
    "Brown",
    "Garcia",
    "Martin",
    "Bernard",
    "Rossi",
    "Eriksson",
    "Zieliński",
    "Hansen",
    "Novak",
]
COMPANY_A = [
    "Nordic",
    "Baltic",
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Vistula",
    "Aurora",
    "Fjord",
    "Polar",
    "Amber",
    "Granite",
    "Silver",
    "Blue",
    "Evergreen",
    "Summit",
    "Harbor",
]
COMPANY_B = [
    "Systems",
    "Logistics",
    "Energy",
    "Analytics",
    "Foods",
    "Robotics",
    "Pharma",
    "Software",
    "Retail",
    "Finance",
    "Telecom",
    "Motors",
    "Labs",
    "Consulting",
]
INDUSTRIES = [
    "Manufacturing",
    "Software",
    "Retail",
    "Finance",
    "Healthcare",
    "Energy",
    "Logistics",
    "Telecommunications",
    "Education",
    "Public sector",
]
COUNTRIES = [
    "Sweden",
    "Poland",
    "Germany",
    "Norway",
    "Denmark",
    "Finland",
    "United Kingdom",
    "Netherlands",
    "France",
    "United States",
]
TITLES = [
    "CEO",
    "CFO",
    "CTO",
    "Head of Marketing",
    "IT Manager",
    "Procurement Manager",
    "Sales Director",
    "Operations Manager",
    "Engineer",
    "Analyst",
    "Project Manager",
]
CAMPAIGNS = [
    "Contoso Ltd Conference",
    "Spring Webinar Series",
    "Product Launch 2026",
    "Whitepaper: Lead Scoring",
    "Trade Fair Stockholm",
    "Partner Roadshow",
    "Customer Summit Warsaw",
    "Newsletter Q3",
    "LinkedIn Retargeting",
    "Free Trial",
]
PRODUCTS = ["Analytics Suite", "Cloud Platform", "Support Plan", "Onboarding Package", "IoT Kit"]
KINDS = (
    [Interaction.Kind.EMAIL_SENT] * 5
    + [Interaction.Kind.EMAIL_OPENED] * 3
    + [
        Interaction.Kind.EMAIL_CLICKED,
        Interaction.Kind.WEBSITE_VISITED,
        Interaction.Kind.WEBSITE_VISITED,
        Interaction.Kind.FORM_SUBMITTED,
        Interaction.Kind.EVENT_REGISTERED,
        Interaction.Kind.EVENT_CHECKED_IN,
    ]
)


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    contacts: int
    leads: int
    opportunities: int
    interactions: int
    tasks: int
    users: dict[str, str]


def _ascii(text: str) -> str:
    """Email local parts without diacritics (ą → a, ł → l), as mail systems expect."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return folded.encode("ascii", "ignore").decode()


def demo_password(username: str) -> str:
    return f"{username}{DEMO_PASSWORD_SUFFIX}"


def demo_users_create() -> dict[str, User]:
    """One user per role, named after it; passwords are ``<name>-demo-2026``."""
    model = get_user_model()
    users: dict[str, User] = {}
    for username, role in DEMO_USERS.items():
        user = model.objects.filter(username=username).first()
        if user is None:
            user = model.objects.create_user(
                username=username,
                password=demo_password(username),
                email=f"{username}@demo.leadcycle.invalid",
                first_name=username.capitalize(),
            )
        user.groups.set([Group.objects.get(name=role)])
        users[username] = user  # type: ignore[assignment]
    assert set(DEMO_USERS.values()) <= set(ROLES)
    return users


def demo_loaded() -> bool:
    return get_user_model().objects.filter(username__in=list(DEMO_USERS)).exists()


@transaction.atomic
def demo_dataset_create(
    *, contacts: int = 2000, seed: int = 7, now: datetime.datetime | None = None
) -> DemoSummary:
    """Write the demo dataset: about ``contacts / 8`` accounts, ``contacts`` contacts, 1.5 leads
    per contact on average (some with several across campaigns), opportunities for about 8% of
    leads, about 10 interactions per contact over two years, and open tasks."""
    rng = random.Random(seed)
    now = now or timezone.now()
    users = demo_users_create()
    sellers = [users["seller"], users["manager"]]
    n_accounts = max(1, contacts // 8)

    accounts = []
    for i in range(n_accounts):
        name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {i + 1}"
        accounts.append(
            Account(
                name=name,
                web_domain=f"{name.lower().replace(' ', '-')}.example",
                industry=rng.choice(INDUSTRIES),
                employees=rng.choice([12, 40, 120, 450, 2000, 9000]),
                annual_revenue=Decimal(rng.randrange(1, 500)) * 100_000,
                country=rng.choice(COUNTRIES),
                owner=rng.choice(sellers),
            )
        )
    Account.objects.bulk_create(accounts, batch_size=1000)

    people = []
    for i in range(contacts):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        account = accounts[i % n_accounts] if rng.random() < 0.9 else None
        domain = account.web_domain if account else "mail.example"
        email = _ascii(f"{first}.{last}.{i}@{domain}".lower())
        people.append(
            Contact(
                first_name=first,
                last_name=last,
                email=email,
                email_normalized=normalize_email(email),
                job_title=rng.choice(TITLES),
                country=account.country if account else rng.choice(COUNTRIES),
                role=rng.choice(["decision_maker", "influencer", "other", "other"]),
                phone=f"+46 70 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                account=account,
                marketing_only=rng.random() < 0.2,
                consent=rng.choice(["granted", "granted", "unknown", "withdrawn"]),
                origin_channel=rng.choice(
                    [Channel.FORM, Channel.EVENT, Channel.IMPORT, Channel.MANUAL, Channel.LINKEDIN]
                ),
                owner=users["marketer"],
            )
        )
    Contact.objects.bulk_create(people, batch_size=1000)

    leads = []
    for person in people:
        for campaign in rng.sample(CAMPAIGNS, k=rng.choice([0, 1, 1, 1, 2, 2, 3])):
            created = now - datetime.timedelta(days=rng.randrange(0, 730))
            status = rng.choices(["open", "qualified", "disqualified"], [75, 12, 13])[0]
            leads.append(
                Lead(
                    topic=f"{rng.choice(PRODUCTS)} — {campaign}",
                    campaign=campaign,
                    source_channel=person.origin_channel,
                    parent_contact=person,
                    parent_account=person.account,
                    status=status,
                    sales_ready=status == "open" and rng.random() < 0.12,
                    telemarketing_ready=status == "open" and rng.random() < 0.15,
                    owner=rng.choice(sellers) if status != "open" or rng.random() < 0.3 else None,
                    created_at=created,
                )
            )
    orphan_campaign = CAMPAIGNS[-2]
    for i in range(max(1, contacts // 100)):
        leads.append(
            Lead(
                topic=f"LinkedIn lead {i + 1} — {orphan_campaign}",
                campaign=orphan_campaign,
                source_channel=Channel.LINKEDIN,
            )
        )
    created_at = [lead.created_at for lead in leads]
    Lead.objects.bulk_create(leads, batch_size=1000)
    # created_at is auto_now_add, so bulk_create stamped "now": restore the spread-out dates.
    for lead, created in zip(leads, created_at, strict=True):
        lead.created_at = created or now
    Lead.objects.bulk_update(leads, ["created_at"], batch_size=1000)

    opportunities = [
        Opportunity(
            name=f"{lead.parent_account or lead.parent_contact} — {lead.topic.split(' — ')[0]}",
            lead=lead,
            contact=lead.parent_contact,
            account=lead.parent_account,
            value=Decimal(rng.randrange(5, 400)) * 1000,
            stage=rng.choice(["qualify", "develop", "propose", "won", "lost"]),
            expected_close=(now + datetime.timedelta(days=rng.randrange(-60, 180))).date(),
            owner=lead.owner or rng.choice(sellers),
        )
        for lead in leads
        if lead.status == "qualified"
    ]
    Opportunity.objects.bulk_create(opportunities, batch_size=1000)

    interactions = []
    contact_leads: dict[int, list[Lead]] = {}
    for lead in leads:
        if lead.parent_contact_id:
            contact_leads.setdefault(lead.parent_contact_id, []).append(lead)
    for person in people:
        own = contact_leads.get(person.pk, [])
        for _ in range(rng.randrange(2, 19)):
            context = rng.choice(own) if own and rng.random() < 0.5 else None
            interactions.append(
                Interaction(
                    kind=rng.choice(KINDS),
                    contact=person,
                    lead=context,
                    campaign=context.campaign if context else rng.choice(CAMPAIGNS),
                    occurred_at=now - datetime.timedelta(minutes=rng.randrange(0, 730 * 24 * 60)),
                    attributes={"demo": True},
                )
            )
    Interaction.objects.bulk_create(interactions, batch_size=2000)

    tasks = []
    for lead in leads:
        if lead.status == "open" and lead.telemarketing_ready and not lead.sales_ready:
            tasks.append(
                Task(
                    kind="call",
                    subject=f"Call about {lead.topic}",
                    lead=lead,
                    contact=lead.parent_contact,
                    queue="telemarketing",
                    assignee=users["telemarketer"] if rng.random() < 0.5 else None,
                    due_at=now + datetime.timedelta(days=rng.randrange(-3, 14)),
                )
            )
        elif lead.status == "open" and lead.sales_ready:
            tasks.append(
                Task(
                    kind="follow_up",
                    subject=f"Follow up {lead.topic}",
                    lead=lead,
                    contact=lead.parent_contact,
                    queue="sales",
                    assignee=users["seller"],
                    due_at=now + datetime.timedelta(days=rng.randrange(0, 10)),
                )
            )
    Task.objects.bulk_create(tasks, batch_size=1000)
    # Sales- and telemarketing-ready leads stand where the business process puts them (its
    # rules, set-based; the tasks above stand for work already handed out).
    from leadcycle.process.services import advance

    advance([lead.pk for lead in leads if lead.status == "open"], create_tasks=False)
    # The records' pages show where they came from: one "created" audit entry each.
    audit_bulk_create(actor=None, instances=[*accounts, *people, *leads, *opportunities, *tasks])
    return DemoSummary(
        accounts=len(accounts),
        contacts=len(people),
        leads=len(leads),
        opportunities=len(opportunities),
        interactions=len(interactions),
        tasks=len(tasks),
        users={name: demo_password(name) for name in DEMO_USERS},
    )
