"""A seeded, deterministic dataset written straight into the tables in bulk.

The same seed and scale always give the same rows, ids included. Contacts are produced in
chunks, each chunk together with its leads, interactions, opportunities and tasks, and written
through the engine's bulk writer (COPY on PostgreSQL, ``executemany`` on SQLite), so memory
stays flat from ten thousand contacts to ten million interactions.

The dataset's "now" is the fixed :data:`ANCHOR`, not the wall clock, so that a rerun produces
the same rows; workloads that reason about "the last 90 days" should count back from it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.color import no_style
from django.db import connection, models
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.engines import Engine, Row
from bench.scales import Scale
from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.crm.normalize import normalize_email

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
SPAN_DAYS = 730
SPAN_SECONDS = SPAN_DAYS * 86_400
CHUNK_CONTACTS = 5_000
# The bulk writer commits (SQLite) every this many contacts.
FLUSH_CONTACTS = 50_000

LOADED_MODELS: tuple[type[models.Model], ...] = (
    Account,
    Contact,
    Lead,
    Interaction,
    Opportunity,
    Task,
)

# fmt: off
FIRST_NAMES = (
    "Anna", "Erik", "Maja", "Lars", "Sofia", "Jan", "Ewa", "Piotr", "Olivia", "Liam", "Emma",
    "Noah", "Zofia", "Karl", "Ingrid", "Marta", "Tomasz", "Freja", "Oskar", "Alice", "Hugo",
    "Agnieszka", "Nils", "Elsa", "Jakub", "Astrid", "Mateusz", "Ida", "Felix", "Katarzyna",
    "Leo", "Wiktoria", "Axel", "Ebba", "Pawel", "Linnea", "Adam", "Klara", "Viktor", "Julia"
)
LAST_NAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk",
    "Kaminski", "Lewandowski", "Zielinski", "Szymanski", "Wozniak", "Smith", "Jones", "Taylor",
    "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Berg", "Lind",
    "Holm", "Dahl", "Ek", "Sandberg", "Lindqvist", "Mazur", "Krawczyk", "Pawlak"
)
COMPANY_WORDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure", "Proseware",
    "Wingtip", "Fourth", "Coffee", "Alpine", "Blue", "Yonder", "Margie", "Lucerne", "Trey",
    "Humongous", "Wide", "World", "Graphic", "Southridge", "Woodgrove", "Bellows", "Coho",
    "Datum", "Relecloud", "VanArsdel", "Lamna", "Nod"
)
COMPANY_KINDS = (
    "Analytics", "Logistics", "Systems", "Foods", "Energy", "Retail", "Consulting", "Software",
    "Bank", "Media", "Health", "Robotics", "Textiles", "Mining", "Insurance", "Travel"
)
COMPANY_SUFFIXES = ("AB", "Sp. z o.o.", "Ltd", "GmbH", "Inc.", "Oy", "AS", "S.A.")
INDUSTRIES = (
    "Software", "Manufacturing", "Retail", "Finance", "Healthcare", "Logistics", "Energy",
    "Media", "Education", "Public"
)
# fmt: on
COUNTRIES = ("Sweden", "Poland", "Germany", "United Kingdom", "Norway", "Finland", "Denmark")
FREE_MAIL = ("mail.example", "post.example", "inbox.example", "webmail.example")
JOB_TITLES = (
    "CEO",
    "CTO",
    "CFO",
    "Head of Marketing",
    "Marketing Manager",
    "IT Manager",
    "Procurement Lead",
    "Sales Director",
    "Data Analyst",
    "Engineer",
    "Operations Manager",
    "Consultant",
)
CAMPAIGNS = (
    ("Spring webinar 2025", "Webinar: data quality"),
    ("Autumn webinar 2025", "Webinar: lead scoring"),
    ("Nordic Summit 2025", "Conference registration"),
    ("Warsaw Expo 2026", "Trade fair visit"),
    ("Contoso Ltd Conference", "Contoso Ltd Conference"),
    ("Pricing page", "Pricing request"),
    ("Whitepaper: GDPR", "Whitepaper download"),
    ("Product tour", "Demo request"),
    ("Newsletter", "Newsletter signup"),
    ("LinkedIn: CFO campaign", "LinkedIn lead form"),
    ("Partner referral", "Partner referral"),
    ("Trial", "Free trial"),
)
INTERACTION_ATTRIBUTES = {
    "email_clicked": (
        '{"url": "https://leadcycle.example/pricing"}',
        '{"url": "https://leadcycle.example/demo"}',
    ),
    "website_visited": (
        '{"page": "/pricing"}',
        '{"page": "/product"}',
        '{"page": "/blog/scoring"}',
    ),
    "form_submitted": ('{"form": "contact-us"}', '{"form": "demo-request"}'),
}


def _pool(weights: dict[Any, int]) -> tuple[Any, ...]:
    """Every value repeated by its weight: a weighted pick is then one index, far cheaper per
    row than ``random.choices``."""
    return tuple(value for value, weight in weights.items() for _ in range(weight))


ROLES = _pool({"decision_maker": 2, "influencer": 3, "other": 5})
CONSENTS = _pool({"granted": 6, "unknown": 3, "withdrawn": 1})
CHANNELS = _pool(
    {"form": 35, "import": 25, "event": 15, "linkedin": 10, "manual": 10, "api": 3, "journey": 2}
)
LEADS_PER_CONTACT = _pool({0: 12, 1: 49, 2: 24, 3: 10, 4: 5})  # mean 1.47, plus 2 % orphans
LEAD_STATUSES = _pool({"open": 80, "qualified": 10, "disqualified": 10})
INTERACTION_KINDS = _pool(
    {
        "email_sent": 38,
        "email_opened": 20,
        "email_clicked": 8,
        "website_visited": 20,
        "form_submitted": 5,
        "event_registered": 3,
        "event_checked_in": 2,
        "event_cancelled": 1,
        "linkedin_form_submitted": 2,
        "custom": 1,
    }
)
INTERACTIONS_MEAN = 10.5  # the floor of an exponential draw averages half a unit less
OPPORTUNITY_STAGES = _pool({"qualify": 3, "develop": 3, "propose": 2, "won": 1, "lost": 1})
ORPHAN_LEAD_SHARE = 0.02


@dataclass(frozen=True)
class Dataset:
    """What was generated: workloads size their input and sample existing rows from this."""

    seed: int
    anchor: datetime
    counts: dict[str, int]
    max_ids: dict[str, int]
    owner_ids: tuple[int, ...]
    actor_id: int
    seconds: float
    foreign_key_violations: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "anchor": self.anchor.isoformat(),
            "counts": self.counts,
            "seconds": round(self.seconds, 3),
            "foreign_key_violations": self.foreign_key_violations,
        }


class _Clock:
    """Text timestamps from precomputed day and time-of-day strings: formatting a datetime per
    row would cost more than writing the row."""

    def __init__(self, suffix: str) -> None:
        start = (ANCHOR - timedelta(days=SPAN_DAYS)).date()
        # A year past the anchor, for due dates and expected close dates.
        self.days = [(start + timedelta(days=d)).isoformat() for d in range(SPAN_DAYS + 366)]
        self._times = [
            f" {h:02d}:{m:02d}:{s:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for s in range(60)
        ]

    def stamp(self, second: int) -> str:
        """The timestamp ``second`` seconds after the dataset's start (two years before now)."""
        day, rest = divmod(second, 86_400)
        return self.days[day] + self._times[rest]


@dataclass
class _Ids:
    lead: int = 0
    interaction: int = 0
    opportunity: int = 0
    task: int = 0


@dataclass
class _Chunk:
    contacts: list[Row] = field(default_factory=list)
    leads: list[Row] = field(default_factory=list)
    interactions: list[Row] = field(default_factory=list)
    opportunities: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)


CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "owner_id", "email", "email_normalized", "first_name",
    "last_name", "job_title", "role", "phone", "country", "account_id", "marketing_only",
    "consent", "origin_channel",
)  # fmt: skip
ACCOUNT_COLUMNS = (
    "id", "created_at", "updated_at", "owner_id", "name", "web_domain", "industry", "employees",
    "annual_revenue", "country",
)  # fmt: skip
LEAD_COLUMNS = (
    "id", "created_at", "updated_at", "owner_id", "topic", "source_channel", "origin_ref",
    "campaign", "parent_contact_id", "parent_account_id", "status", "sales_ready",
    "telemarketing_ready", "description",
)  # fmt: skip
INTERACTION_COLUMNS = (
    "id", "kind", "occurred_at", "campaign", "attributes", "created_at", "contact_id", "lead_id",
)  # fmt: skip
OPPORTUNITY_COLUMNS = (
    "id", "created_at", "updated_at", "owner_id", "name", "lead_id", "contact_id", "account_id",
    "value", "stage", "expected_close",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "created_at", "updated_at", "owner_id", "kind", "subject", "lead_id", "contact_id",
    "assignee_id", "queue", "due_at", "done", "done_at",
)  # fmt: skip


# The lists of a chunk (attribute of _Chunk, key of the counts), in foreign-key order.
CHUNK_TABLES: tuple[tuple[str, type[models.Model], tuple[str, ...]], ...] = (
    ("contacts", Contact, CONTACT_COLUMNS),
    ("leads", Lead, LEAD_COLUMNS),
    ("interactions", Interaction, INTERACTION_COLUMNS),
    ("opportunities", Opportunity, OPPORTUNITY_COLUMNS),
    ("tasks", Task, TASK_COLUMNS),
)


def _require_columns(model: type[models.Model], columns: Sequence[str]) -> None:
    """Fail with a clear message when a migration added a NOT NULL column the generator does
    not fill, instead of a constraint error deep inside a COPY."""
    missing = [
        f.column
        for f in model._meta.concrete_fields
        if f.column not in columns and not f.null and not f.has_db_default()  # type: ignore[attr-defined]
    ]
    if missing:
        raise RuntimeError(
            f"bench/dataset.py does not fill {model._meta.db_table}.{', '.join(missing)}: "
            "add the column(s) to the generator."
        )


class _Generator:
    """Produces the rows; all randomness comes from one seeded ``random.Random``."""

    def __init__(self, *, rng: random.Random, scale: Scale, suffix: str, owners: Sequence[int]):
        self.rng = rng
        self.scale = scale
        self.clock = _Clock(suffix)
        self.owners = tuple(owners)
        self.ids = _Ids()
        self.domains: list[str] = []

    def _owner(self) -> int | None:
        rand = self.rng.random
        return None if rand() < 0.1 else self.owners[int(rand() * len(self.owners))]

    def accounts(self) -> list[Row]:
        rand = self.rng.random
        rows: list[Row] = []
        for aid in range(1, self.scale.accounts + 1):
            word = COMPANY_WORDS[int(rand() * len(COMPANY_WORDS))]
            kind = COMPANY_KINDS[int(rand() * len(COMPANY_KINDS))]
            suffix = COMPANY_SUFFIXES[int(rand() * len(COMPANY_SUFFIXES))]
            domain = f"{word}-{kind}-{aid}.example".lower()
            self.domains.append(domain)
            created = self.clock.stamp(int(rand() * SPAN_SECONDS))
            rows.append((
                aid, created, created, self._owner(), f"{word} {kind} {suffix}", domain,
                INDUSTRIES[int(rand() * len(INDUSTRIES))],
                None if rand() < 0.2 else 5 + int(rand() * 5000),
                None if rand() < 0.3 else 1000 * int(100 + rand() * 500_000),
                COUNTRIES[int(rand() * len(COUNTRIES))],
            ))  # fmt: skip
        return rows

    def chunk(self, first: int, last: int) -> _Chunk:
        """Contacts ``first..last`` with everything hanging off them."""
        rand = self.rng.random
        stamp = self.clock.stamp
        n_accounts = self.scale.accounts
        out = _Chunk()
        for cid in range(first, last + 1):
            created_s = int(rand() * SPAN_SECONDS)
            created = stamp(created_s)
            account_id = None if rand() < 0.12 else 1 + int(rand() * n_accounts)
            first_name = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
            last_name = LAST_NAMES[int(rand() * len(LAST_NAMES))]
            domain = (
                self.domains[account_id - 1]
                if account_id is not None
                else FREE_MAIL[int(rand() * len(FREE_MAIL))]
            )
            # The id keeps every address unique; the capitals keep email and its normalised
            # form different, as typed addresses are.
            email = f"{first_name}.{last_name}{cid}@{domain}"
            out.contacts.append((
                cid, created, created, self._owner(), email, normalize_email(email), first_name,
                last_name, JOB_TITLES[int(rand() * len(JOB_TITLES))], ROLES[int(rand() * 10)],
                "" if rand() < 0.3 else f"+46 70 {cid:07d}",
                COUNTRIES[int(rand() * len(COUNTRIES))], account_id, rand() < 0.15,
                CONSENTS[int(rand() * 10)], CHANNELS[int(rand() * len(CHANNELS))],
            ))  # fmt: skip
            leads = self._leads(out, cid, account_id, created_s)
            self._interactions(out, cid, leads)
            if rand() < ORPHAN_LEAD_SHARE:
                self._leads(out, None, account_id if rand() < 0.5 else None, created_s, count=1)
        return out

    def _leads(
        self,
        out: _Chunk,
        contact_id: int | None,
        account_id: int | None,
        contact_created_s: int,
        count: int | None = None,
    ) -> list[tuple[int, str]]:
        rand = self.rng.random
        stamp = self.clock.stamp
        made: list[tuple[int, str]] = []
        if count is None:
            count = LEADS_PER_CONTACT[int(rand() * 100)]
        for _ in range(count):
            self.ids.lead += 1
            lead_id = self.ids.lead
            created_s = contact_created_s + int(rand() * (SPAN_SECONDS - contact_created_s))
            created = stamp(created_s)
            campaign, topic = CAMPAIGNS[int(rand() * len(CAMPAIGNS))]
            channel = CHANNELS[int(rand() * len(CHANNELS))]
            status = LEAD_STATUSES[int(rand() * 100)]
            sales_ready = status == "open" and rand() < 0.06
            telemarketing_ready = status == "open" and not sales_ready and rand() < 0.08
            owner = self._owner()
            out.leads.append((
                lead_id, created, created, owner, topic, channel, f"{channel}-{int(rand() * 40)}",
                campaign, contact_id, account_id, status, sales_ready, telemarketing_ready, "",
            ))  # fmt: skip
            made.append((lead_id, campaign))
            if status == "qualified" and rand() < 0.6:
                self._opportunity(out, lead_id, contact_id, account_id, topic, created_s, owner)
            if sales_ready or telemarketing_ready:
                self._task(out, lead_id, contact_id, created_s, sales_ready, topic)
        return made

    def _opportunity(
        self,
        out: _Chunk,
        lead_id: int,
        contact_id: int | None,
        account_id: int | None,
        topic: str,
        created_s: int,
        owner: int | None,
    ) -> None:
        rand = self.rng.random
        self.ids.opportunity += 1
        created = self.clock.stamp(created_s)
        close_day = self.clock.days[created_s // 86_400 + 30 + int(rand() * 300)]
        out.opportunities.append((
            self.ids.opportunity, created, created, owner, f"{topic} #{lead_id}", lead_id,
            contact_id, account_id, 500 * int(1 + rand() * 400),
            OPPORTUNITY_STAGES[int(rand() * 10)], close_day,
        ))  # fmt: skip

    def _task(
        self,
        out: _Chunk,
        lead_id: int,
        contact_id: int | None,
        created_s: int,
        sales_ready: bool,
        topic: str,
    ) -> None:
        rand = self.rng.random
        self.ids.task += 1
        created = self.clock.stamp(created_s)
        due = self.clock.stamp(created_s + 86_400 * (1 + int(rand() * 14)))
        done = rand() < 0.3
        # Sales-ready leads go to a seller, telemarketing-ready ones wait in the queue.
        assignee = self.owners[int(rand() * len(self.owners))] if sales_ready else None
        queue = "sales" if sales_ready else "telemarketing"
        out.tasks.append((
            self.ids.task, created, created, None, "call" if not sales_ready else "follow_up",
            f"Follow up: {topic}", lead_id, contact_id, assignee, queue, due, done,
            due if done else None,
        ))  # fmt: skip

    def _interactions(self, out: _Chunk, contact_id: int, leads: list[tuple[int, str]]) -> None:
        rand = self.rng.random
        stamp = self.clock.stamp
        count = int(-math.log(1.0 - rand()) * INTERACTIONS_MEAN)
        rows = out.interactions
        for _ in range(count):
            self.ids.interaction += 1
            kind = INTERACTION_KINDS[int(rand() * 100)]
            occurred = stamp(int(rand() * SPAN_SECONDS))
            lead_id: int | None = None
            campaign = ""
            if leads and rand() < 0.5:
                lead_id, campaign = leads[int(rand() * len(leads))]
            choices = INTERACTION_ATTRIBUTES.get(kind)
            attributes = choices[int(rand() * len(choices))] if choices else "{}"
            rows.append((
                self.ids.interaction, kind, occurred, campaign, attributes, occurred, contact_id,
                lead_id,
            ))  # fmt: skip


def _create_users() -> tuple[tuple[int, ...], int]:
    """A handful of role users through the ORM (there are few): record owners, and the
    marketer every workload acts as. Passwords are unusable; nobody logs in as them."""
    unusable = make_password(None)
    specs = [("bench-marketer", "marketer"), ("bench-manager", "sales_manager")]
    specs += [(f"bench-seller-{i}", "seller") for i in range(1, 7)]
    specs += [(f"bench-telemarketer-{i}", "telemarketer") for i in range(1, 4)]
    users = User.objects.bulk_create(
        [
            User(username=name, password=unusable, email=f"{name}@leadcycle.example")
            for name, _ in specs
        ]
    )
    groups = {g.name: g for g in Group.objects.all()}
    for user, (_, role) in zip(users, specs, strict=True):
        if role in groups:
            user.groups.add(groups[role])
    owners = tuple(u.pk for u, (_, role) in zip(users, specs, strict=True) if role == "seller")
    return (*owners, users[0].pk), users[0].pk


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    )


def generate(*, scale: Scale, seed: int, engine: Engine, console: Console) -> Dataset:
    """Create the users, then write ``scale``'s accounts, contacts, leads, interactions,
    opportunities and tasks in bulk; return what was written."""
    started = time.perf_counter()
    _require_columns(Account, ACCOUNT_COLUMNS)
    for _, model, columns in CHUNK_TABLES:
        _require_columns(model, columns)
    owners, actor_id = _create_users()
    tables = [m._meta.db_table for m in LOADED_MODELS]
    counts = dict.fromkeys(
        ("accounts", "contacts", "leads", "interactions", "opportunities", "tasks"), 0
    )
    generator: _Generator | None = None
    with engine.bulk_load(tables) as writer, _progress(console) as progress:
        generator = _Generator(
            rng=random.Random(seed), scale=scale, suffix=writer.timestamp_suffix, owners=owners
        )
        task = progress.add_task("generating", total=scale.contacts, detail="accounts")
        accounts = generator.accounts()
        writer.write(Account._meta.db_table, ACCOUNT_COLUMNS, accounts)
        counts["accounts"] = len(accounts)
        del accounts
        for first in range(1, scale.contacts + 1, CHUNK_CONTACTS):
            last = min(first + CHUNK_CONTACTS - 1, scale.contacts)
            chunk = generator.chunk(first, last)
            for label, model, columns in CHUNK_TABLES:
                rows: list[Row] = getattr(chunk, label)
                if rows:
                    writer.write(model._meta.db_table, columns, rows)
                    counts[label] += len(rows)
            if last % FLUSH_CONTACTS == 0 or last == scale.contacts:
                writer.flush()
            progress.update(
                task,
                completed=last,
                detail=f"{counts['leads']:,} leads, {counts['interactions']:,} interactions",
            )
        progress.update(task, detail="rebuilding indexes and foreign keys")
    if connection.vendor == "postgresql":
        # Rows were written with explicit ids; move the identity sequences past them.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(LOADED_MODELS)):
                cursor.execute(statement)
    engine.settle(tables)
    return Dataset(
        seed=seed,
        anchor=ANCHOR,
        counts=counts,
        max_ids={
            "account": counts["accounts"],
            "contact": counts["contacts"],
            "lead": generator.ids.lead,
            "interaction": generator.ids.interaction,
        },
        owner_ids=owners,
        actor_id=actor_id,
        seconds=time.perf_counter() - started,
        foreign_key_violations=engine.foreign_key_violations,
    )
