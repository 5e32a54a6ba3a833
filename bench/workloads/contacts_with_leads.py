"""Workload ``contacts_with_leads_service``: a bulk load of contacts with their leads.

The input mixes three kinds of rows, shuffled:

- about half name a contact already in the dataset, its email re-typed with other capitals
  and surrounding spaces: those rows must link their leads to the existing contact;
- most of the rest are new people;
- a few (5 %) repeat a new person from earlier in the input, again re-typed and with another
  job title: the first row wins, later ones only add leads.

Ours is :func:`leadcycle.crm.services.contacts_with_leads_create_bulk` with its defaults
(batches of 2,000, one audit entry per created contact and lead). The baselines do the same
job, audit entries included, in plain SQL: stage the rows (``executemany`` on SQLite, ``COPY``
on PostgreSQL), insert the missing contacts in one statement, insert the leads joined to
contacts by normalised email in one statement, and audit both with ``INSERT … SELECT``.

Generated emails are ASCII and padded with spaces only, so SQL's ``lower(trim(…))`` equals
the app's NFKC + casefold + strip normalisation on this input.

Every run (ours and each baseline) starts from the generated dataset: after a run its rows
are deleted by id above the high-water marks taken in ``setup`` and the engine settles the
tables (VACUUM ANALYZE and CHECKPOINT on PostgreSQL, ANALYZE and a WAL checkpoint on SQLite).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from bench.cleanup import delete_lead_dependents_above
from bench.dataset import CAMPAIGNS, FIRST_NAMES, FREE_MAIL, JOB_TITLES, LAST_NAMES
from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register, step
from bench.workloads import contacts_with_leads_sql as sql
from leadcycle.crm.models import Contact
from leadcycle.crm.normalize import normalize_email
from leadcycle.crm.services import ContactWithLeads, contacts_with_leads_create_bulk

EXISTING_SHARE = 0.5
REPEAT_SHARE = 0.05
TOPICS = tuple(dict.fromkeys(topic for _, topic in CAMPAIGNS))


@dataclass(frozen=True)
class _Input:
    """The rows, and what loading them must produce."""

    rows: list[ContactWithLeads]
    contacts_created: int
    leads_created: int
    leads_to_existing: int
    contacts_fingerprint: str
    links_fingerprint: str


def _fingerprint(lines: Iterable[str]) -> str:
    """Order-free digest of a multiset of lines (short: it is for comparing, not storing)."""
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def _retype(email: str, rng: random.Random) -> str:
    """The same address as a person might type it again: other capitals, stray spaces."""
    style = rng.randrange(4)
    if style == 0:
        email = email.upper()
    elif style == 1:
        email = email.swapcase()
    elif style == 2:
        local, _, domain = email.partition("@")
        email = f"{local.lower()}@{domain.upper()}"
    else:
        email = email.lower()
    return " " * rng.randrange(3) + email + " " * rng.randrange(3)


def _existing_emails(ids: list[int]) -> dict[int, str]:
    emails: dict[int, str] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        emails.update(Contact.objects.filter(pk__in=chunk).values_list("id", "email"))
    return emails


def build_input(*, rows: int, max_contact_id: int, seed: int) -> _Input:
    """The shuffled input rows and the counts and links they must produce."""
    rng = random.Random(f"{seed}:contacts_with_leads")
    n_existing = int(rows * EXISTING_SHARE)
    n_repeat = int(rows * REPEAT_SHARE)
    n_new = rows - n_existing - n_repeat
    existing_ids = [1 + rng.randrange(max_contact_id) for _ in range(n_existing)]
    emails = _existing_emails(existing_ids)

    def person(email: str) -> dict[str, str]:
        return {
            "email": email,
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "job_title": rng.choice(JOB_TITLES),
        }

    def topics() -> list[str]:
        return rng.sample(TOPICS, 1 if rng.random() < 0.6 else 2)

    # (sort key, row, is an existing contact): sorting by key shuffles, and a repeat's key is
    # drawn above its original's so the original always comes first.
    keyed: list[tuple[float, ContactWithLeads, bool]] = []
    for cid in existing_ids:
        contact = person(_retype(emails[cid], rng))
        keyed.append((rng.random(), ContactWithLeads(contact=contact, lead_topics=topics()), True))
    originals: list[tuple[float, str]] = []
    for k in range(n_new):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # ".n<k>" cannot occur in generated addresses, which end in the contact id.
        email = f"{first}.{last}.n{k}@{rng.choice(FREE_MAIL).capitalize()}"
        # Some arrive padded too: the contact must be stored trimmed.
        typed = email if rng.random() < 0.7 else f" {email}  "
        contact = person(typed) | {"first_name": first, "last_name": last}
        key = rng.random()
        keyed.append((key, ContactWithLeads(contact=contact, lead_topics=topics()), False))
        originals.append((key, email))
    for _ in range(n_repeat):
        key, email = rng.choice(originals)
        contact = person(_retype(email, rng))
        repeat_key = key + (1.0 - key) * rng.random()
        keyed.append((repeat_key, ContactWithLeads(contact=contact, lead_topics=topics()), False))
    keyed.sort(key=lambda item: item[0])

    first_rows: dict[str, dict[str, Any]] = {}
    links: list[str] = []
    leads_to_existing = 0
    for _, row, existing in keyed:
        normalized = normalize_email(row.contact["email"])
        assert normalized is not None
        links.extend(f"{normalized}\t{topic}" for topic in row.lead_topics)
        if existing:
            leads_to_existing += len(row.lead_topics)
        else:
            first_rows.setdefault(normalized, dict(row.contact))
    return _Input(
        rows=[row for _, row, _ in keyed],
        contacts_created=len(first_rows),
        leads_created=len(links),
        leads_to_existing=leads_to_existing,
        contacts_fingerprint=_fingerprint(
            f"{email}\t{c['email'].strip()}\t{c['first_name']}\t{c['last_name']}\t{c['job_title']}"
            for email, c in first_rows.items()
        ),
        links_fingerprint=_fingerprint(links),
    )


def _audit_line(record_type: str, record_repr: str, changes: Any, *, contact_mark: int) -> str:
    """An audit entry without the ids that differ between runs (those of new contacts)."""
    if isinstance(changes, str):  # SQLite hands JSON back as text
        changes = json.loads(changes)
    parent = changes.get("parent_contact")
    if parent and parent[1] > contact_mark:
        changes["parent_contact"] = [None, "new contact"]
    return f"{record_type}\t{record_repr}\t{json.dumps(changes, sort_keys=True)}"


@dataclass(frozen=True)
class _Marks:
    """Highest ids before a run: everything above was written by it."""

    contact: int
    lead: int
    audit: int


def _scalar(query: str, params: Iterable[Any] = ()) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(query, list(params))
        return cursor.fetchone()[0]


def _staged(rows: list[ContactWithLeads]) -> Iterator[tuple[Any, ...]]:
    """One staging row per lead (a row without topics still stages its contact, topic NULL),
    numbered in input order so "first row wins" can be expressed in SQL."""
    seq = 0
    for row in rows:
        c = row.contact
        topics: Sequence[str | None] = row.lead_topics or (None,)
        for topic in topics:
            seq += 1
            yield (seq, c["email"], c["first_name"], c["last_name"], c["job_title"], topic)


class _SqliteBaseline:
    """Plain SQL through the raw ``sqlite3`` connection, inside one IMMEDIATE transaction
    like the service's; the statements are in :mod:`.contacts_with_leads_sql`."""

    def __init__(self, workload: ContactsWithLeadsService, contacts_sql: str) -> None:
        self.workload = workload
        self.contacts_sql = contacts_sql

    def __call__(self, ctx: Context) -> Outcome:
        w = self.workload
        params = {
            "now": timezone.now().replace(tzinfo=None).isoformat(" "),
            "actor": w.actor.pk,
            "contact_mark": w.marks.contact,
            "lead_mark": w.marks.lead,
        }
        steps: dict[str, float] = {}
        with transaction.atomic():
            raw = connection.connection
            with step(steps, "stage"):
                raw.execute(sql.SQLITE_STAGE)
                raw.executemany(sql.SQLITE_STAGE_INSERT, _staged(w.input.rows))
            with step(steps, "contacts"):
                contacts = raw.execute(self.contacts_sql, params).rowcount
            with step(steps, "leads"):
                leads = raw.execute(sql.SQLITE_LEADS, params).rowcount
            with step(steps, "audit"):
                raw.execute(sql.SQLITE_AUDIT_CONTACTS, params)
                raw.execute(sql.SQLITE_AUDIT_LEADS, params)
            raw.execute(sql.SQLITE_DROP_STAGE)
        w.reported = (contacts, leads)
        return Outcome(
            rows=len(w.input.rows),
            details={"contacts_created": contacts, "leads_created": leads, "steps_s": steps},
        )


class _PostgresBaseline:
    """Plain SQL through the raw psycopg connection, in one transaction; the statements are
    in :mod:`.contacts_with_leads_sql`."""

    def __init__(self, workload: ContactsWithLeadsService, contacts_sql: str) -> None:
        self.workload = workload
        self.contacts_sql = contacts_sql

    def __call__(self, ctx: Context) -> Outcome:
        w = self.workload
        params = {"now": timezone.now(), "actor": w.actor.pk}
        steps: dict[str, float] = {}
        with transaction.atomic(), connection.connection.cursor() as cursor:
            with step(steps, "stage"):
                cursor.execute(sql.PG_STAGE)
                with cursor.copy(sql.PG_STAGE_COPY) as copy:
                    for row in _staged(w.input.rows):
                        copy.write_row(row)
                cursor.execute(sql.PG_STAGE_ANALYZE)
            with step(steps, "contacts+audit"):
                cursor.execute(self.contacts_sql, params)
                contacts = cursor.rowcount
            with step(steps, "leads+audit"):
                cursor.execute(sql.PG_LEADS, params)
                leads = cursor.rowcount
        w.reported = (contacts, leads)
        return Outcome(
            rows=len(w.input.rows),
            details={"contacts_created": contacts, "leads_created": leads, "steps_s": steps},
        )


@register
class ContactsWithLeadsService(Workload):
    """Contacts with their leads through ``contacts_with_leads_create_bulk``."""

    name = "contacts_with_leads_service"
    description = (
        "contacts_with_leads_create_bulk: new contacts with 1-2 leads each; half the rows "
        "re-type an existing contact's email, 5 % repeat a new person"
    )
    tables = ("crm_contact", "crm_lead", "audit_auditentry")

    input: _Input
    marks: _Marks
    actor: User
    reported: tuple[int, int] = (0, 0)
    """(contacts, leads) the last run said it created."""

    def setup(self, ctx: Context) -> None:
        self.actor = User.objects.get(pk=ctx.dataset.actor_id)
        self.input = build_input(
            rows=ctx.scale.workload_rows,
            max_contact_id=ctx.dataset.max_ids["contact"],
            seed=ctx.seed,
        )
        self.marks = _Marks(
            contact=_scalar("SELECT coalesce(max(id), 0) FROM crm_contact"),
            lead=_scalar("SELECT coalesce(max(id), 0) FROM crm_lead"),
            audit=_scalar("SELECT coalesce(max(id), 0) FROM audit_auditentry"),
        )

    def run(self, ctx: Context) -> Outcome:
        contacts, leads = contacts_with_leads_create_bulk(by=self.actor, rows=self.input.rows)
        self.reported = (contacts, leads)
        return Outcome(
            rows=len(self.input.rows),
            details={"contacts_created": contacts, "leads_created": leads},
        )

    def baselines(self, ctx: Context) -> list[Baseline]:
        make: Callable[[ContactsWithLeadsService, str], Callable[[Context], Outcome]]
        if connection.vendor == "sqlite":
            strategies, make = sql.SQLITE_CONTACTS, _SqliteBaseline
        else:
            strategies, make = sql.PG_CONTACTS, _PostgresBaseline
        return [Baseline(name, make(self, statement)) for name, statement in strategies.items()]

    def observe(self, ctx: Context) -> Facts:
        m = self.marks
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n.email_normalized, n.email, n.first_name, n.last_name, n.job_title "
                "FROM crm_contact n WHERE n.id > %s",
                [m.contact],
            )
            contacts = ["\t".join(row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT c.email_normalized, l.topic FROM crm_lead l "
                "JOIN crm_contact c ON c.id = l.parent_contact_id WHERE l.id > %s",
                [m.lead],
            )
            links = ["\t".join(row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT record_type, count(*) FROM audit_auditentry WHERE id > %s "
                "GROUP BY record_type ORDER BY record_type",
                [m.audit],
            )
            audit = dict(cursor.fetchall())
            cursor.execute(
                "SELECT record_type, record_repr, changes FROM audit_auditentry WHERE id > %s",
                [m.audit],
            )
            audit_content = [_audit_line(*row, contact_mark=m.contact) for row in cursor]
        return {
            "contacts_created": len(contacts),
            "leads_created": _scalar("SELECT count(*) FROM crm_lead WHERE id > %s", [m.lead]),
            "leads_to_existing": _scalar(
                "SELECT count(*) FROM crm_lead WHERE id > %s AND parent_contact_id <= %s",
                [m.lead, m.contact],
            ),
            # Another contact with the same address as typed, whatever email_normalized says:
            # also catches a wrongly normalised email_normalized.
            "duplicate_contacts": _scalar(
                "SELECT count(*) FROM crm_contact n WHERE n.id > %s AND ("
                " n.email_normalized <> lower(trim(n.email)) OR EXISTS ("
                "  SELECT 1 FROM crm_contact c"
                "  WHERE c.email_normalized = lower(trim(n.email)) AND c.id <> n.id))",
                [m.contact],
            ),
            "leads_account_mismatch": _scalar(
                "SELECT count(*) FROM crm_lead l"
                " JOIN crm_contact c ON c.id = l.parent_contact_id WHERE l.id > %s"
                " AND coalesce(l.parent_account_id, 0) <> coalesce(c.account_id, 0)",
                [m.lead],
            ),
            "audit_entries": audit,
            "reported_counts": list(self.reported),
            "contacts_fingerprint": _fingerprint(contacts),
            "links_fingerprint": _fingerprint(links),
            "audit_fingerprint": _fingerprint(audit_content),
        }

    def restore(self, ctx: Context) -> None:
        m = self.marks
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry WHERE id > %s", [m.audit])
            delete_lead_dependents_above(cursor, m.lead)
            cursor.execute("DELETE FROM crm_lead WHERE id > %s", [m.lead])
            cursor.execute("DELETE FROM crm_contact WHERE id > %s", [m.contact])

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        inp = self.input

        def check(fact: str, expected: Any) -> Check:
            if baseline is None:
                return Check(expected=expected, ours=ours[fact])
            return Check(expected=expected, ours=ours[fact], baseline=baseline[fact])

        return {
            "duplicate_contacts": check("duplicate_contacts", 0),
            "contacts_created": check("contacts_created", inp.contacts_created),
            "leads_created": check("leads_created", inp.leads_created),
            "leads_linked_to_existing": check("leads_to_existing", inp.leads_to_existing),
            "leads_account_mismatch": check("leads_account_mismatch", 0),
            "audit_entries": check(
                "audit_entries",
                {"crm.contact": inp.contacts_created, "crm.lead": inp.leads_created},
            ),
            "reported_counts": check("reported_counts", [inp.contacts_created, inp.leads_created]),
            "contacts_match_input": check("contacts_fingerprint", inp.contacts_fingerprint),
            "links_match_input": check("links_fingerprint", inp.links_fingerprint),
            # No independent expectation here: the baseline must audit exactly as we do.
            "audit_matches_ours": check("audit_fingerprint", ours["audit_fingerprint"]),
        }
