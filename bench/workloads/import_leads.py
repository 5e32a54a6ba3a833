"""Workload ``import_leads``: a CSV file of lead rows imported through the import service.

The file (written in setup, not timed) has one lead per row: Email, First Name, Last Name,
Company, Website, Topic, Campaign. Half the rows name a contact already in the dataset, the
email re-typed with other capitals and stray spaces (the lead must link to that contact and
to its account); the other half are new people, most at an existing company (found by its
web domain) and one row in ten overall at a new company (created once, by domain).

Ours is the whole job as a user starts it: ``import_create`` (hash, detect and count the
file, suggest the mapping), then ``import_run`` in batches of 10,000 rows (the default):
accounts found or created, contacts found by the default email strategy or created
marketing-only, leads created, the job's resume point moved with each batch.

The baseline does the same by hand: the file bulk-loaded into a staging table (``COPY`` on
PostgreSQL, one ``executemany`` on SQLite), then one set-based insert of the missing
accounts, one of the missing contacts, and one of the leads joined to the found or created
contacts. Its ``stage`` step is the bare load of the file: the floor.
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from bench.cleanup import delete_lead_dependents_above
from bench.dataset import CAMPAIGNS, FIRST_NAMES, LAST_NAMES
from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register, step
from leadcycle.crm.normalize import normalize_email
from leadcycle.imports.services import import_create, import_run, import_start

HEADER = ["Email", "First Name", "Last Name", "Company", "Website", "Topic", "Campaign"]


def _retype(email: str, rng: random.Random) -> str:
    style = rng.randrange(3)
    email = email.upper() if style == 0 else email.swapcase() if style == 1 else email.lower()
    return " " * rng.randrange(2) + email + " " * rng.randrange(3)


def _fingerprint(lines: list[str]) -> str:
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class _Expected:
    rows: int
    contacts_created: int
    accounts_created: int
    leads_to_existing: int
    links_fingerprint: str


@dataclass(frozen=True)
class _Marks:
    account: int
    contact: int
    lead: int
    job: int


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


@register
class ImportLeads(Workload):
    """A leads file through the import service."""

    name = "import_leads"
    description = (
        "import a CSV of leads: half the people exist (emails re-typed), 10 % of rows at new "
        "companies; missing contacts and accounts created, leads linked"
    )
    tables = ("crm_account", "crm_contact", "crm_lead", "imports_importjob")

    path: Path
    folder: Path
    expected: _Expected
    marks: _Marks
    media: Any

    def setup(self, ctx: Context) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
        self.media = override_settings(MEDIA_ROOT=str(self.folder / "media"))
        self.media.enable()
        rng = random.Random(f"{ctx.seed}:import_leads")
        rows = ctx.scale.workload_rows
        max_contact = ctx.dataset.max_ids["contact"]
        existing_ids = rng.sample(range(1, max_contact + 1), rows // 2)
        contacts: dict[int, tuple[str, str, str, str | None, str | None]] = {}
        with connection.cursor() as cursor:
            for start in range(0, len(existing_ids), 900):
                chunk = existing_ids[start : start + 900]
                placeholders = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    "SELECT c.id, c.email, c.first_name, c.last_name, a.name, a.web_domain"  # noqa: S608 - placeholders only
                    " FROM crm_contact c LEFT JOIN crm_account a ON a.id = c.account_id"
                    f" WHERE c.id IN ({placeholders})",
                    chunk,
                )
                for cid, email, first, last, company, domain in cursor.fetchall():
                    contacts[cid] = (email, first, last, company, domain)
            cursor.execute("SELECT name, web_domain FROM crm_account ORDER BY id")
            accounts = cursor.fetchall()
        lines: list[tuple[float, list[str]]] = []
        links: list[str] = []
        for cid in existing_ids:
            email, first, last, company, domain = contacts[cid]
            topic_campaign = rng.choice(CAMPAIGNS)
            lines.append(
                (
                    rng.random(),
                    [
                        _retype(email, rng),
                        first,
                        last,
                        company or "",
                        domain or "",
                        topic_campaign[1],
                        topic_campaign[0],
                    ],
                )
            )
            links.append(f"{normalize_email(email)}\t{topic_campaign[1]}")
        new_people = rows - len(existing_ids)
        new_companies = rows // 10
        new_accounts: set[str] = set()
        for k in range(new_people):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if k < new_companies:
                index = rng.randrange(new_companies * 2 // 3 or 1)  # some share a new company
                company, domain = f"Newco {index}", f"newco-{index}.bench.example"
                new_accounts.add(domain)
            else:
                company, domain = rng.choice(accounts)
            email = f"{first}.{last}.import{k}@{domain}"
            topic_campaign = rng.choice(CAMPAIGNS)
            typed = email if rng.random() < 0.7 else f" {email.upper()} "
            lines.append(
                (
                    rng.random(),
                    [typed, first, last, company, domain, topic_campaign[1], topic_campaign[0]],
                )
            )
            links.append(f"{normalize_email(email)}\t{topic_campaign[1]}")
        lines.sort(key=lambda item: item[0])
        self.path = self.folder / "leads.csv"
        with self.path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(HEADER)
            writer.writerows(line for _, line in lines)
        self.expected = _Expected(
            rows=rows,
            contacts_created=new_people,
            accounts_created=len(new_accounts),
            leads_to_existing=len(existing_ids),
            links_fingerprint=_fingerprint(links),
        )
        self.marks = _Marks(
            account=_scalar("SELECT coalesce(max(id), 0) FROM crm_account"),
            contact=_scalar("SELECT coalesce(max(id), 0) FROM crm_contact"),
            lead=_scalar("SELECT coalesce(max(id), 0) FROM crm_lead"),
            job=_scalar("SELECT coalesce(max(id), 0) FROM imports_importjob"),
        )

    def run(self, ctx: Context) -> Outcome:
        steps: dict[str, float] = {}
        with step(steps, "read"), self.path.open("rb") as upload:
            job = import_create(
                by=None,
                entity="leads",
                upload=upload,
                file_name="leads.csv",
                options={"react": False},
            )
            import_start(job=job, by=None, enqueue=False)
        with step(steps, "import"):
            job = import_run(job_id=job.pk)
        assert job.status == "done", job.problem
        return Outcome(
            rows=job.rows_done,
            details={
                "created": job.created,
                "rejected": job.rejected,
                "contacts_created": job.contacts_created,
                "accounts_created": job.accounts_created,
                "steps_s": steps,
            },
        )

    def baselines(self, ctx: Context) -> list[Baseline]:
        if connection.vendor == "sqlite":
            return [Baseline("sqlite: executemany + 3 INSERT … SELECT", self._sqlite)]
        return [Baseline("postgres: COPY + 3 INSERT … SELECT", self._postgres)]

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        with self.path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            for seq, row in enumerate(reader):
                yield (seq, *row)

    def _sqlite(self, ctx: Context) -> Outcome:
        now = timezone.now().replace(tzinfo=None).isoformat(" ")
        steps: dict[str, float] = {}
        with transaction.atomic():
            raw = connection.connection
            with step(steps, "stage"):
                raw.execute(
                    "CREATE TEMP TABLE import_stage (seq INTEGER PRIMARY KEY, email TEXT,"
                    " first_name TEXT, last_name TEXT, company TEXT, website TEXT, topic TEXT,"
                    " campaign TEXT)"
                )
                raw.executemany(
                    "INSERT INTO import_stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._rows()
                )
            with step(steps, "accounts"):
                raw.execute(SQLITE_ACCOUNTS, {"now": now})
            with step(steps, "contacts"):
                raw.execute(SQLITE_CONTACTS, {"now": now})
            with step(steps, "leads"):
                raw.execute(SQLITE_LEADS, {"now": now})
            raw.execute("DROP TABLE temp.import_stage")
        return Outcome(rows=self.expected.rows, details={"steps_s": steps})

    def _postgres(self, ctx: Context) -> Outcome:
        now = timezone.now()
        steps: dict[str, float] = {}
        with transaction.atomic(), connection.connection.cursor() as cursor:
            with step(steps, "stage"):
                cursor.execute(
                    "CREATE TEMP TABLE import_stage (seq int PRIMARY KEY, email text,"
                    " first_name text, last_name text, company text, website text, topic text,"
                    " campaign text) ON COMMIT DROP"
                )
                with cursor.copy("COPY import_stage FROM STDIN") as copy:
                    for row in self._rows():
                        copy.write_row(row)
                cursor.execute("ANALYZE import_stage")
            with step(steps, "accounts"):
                cursor.execute(PG_ACCOUNTS, {"now": now})
            with step(steps, "contacts"):
                cursor.execute(PG_CONTACTS, {"now": now})
            with step(steps, "leads"):
                cursor.execute(PG_LEADS, {"now": now})
        return Outcome(rows=self.expected.rows, details={"steps_s": steps})

    def observe(self, ctx: Context) -> Facts:
        m = self.marks
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.email_normalized, l.topic FROM crm_lead l"
                " JOIN crm_contact c ON c.id = l.parent_contact_id WHERE l.id > %s",
                [m.lead],
            )
            links = ["\t".join(row) for row in cursor.fetchall()]
        return {
            "leads_created": _scalar("SELECT count(*) FROM crm_lead WHERE id > %s", [m.lead]),
            "contacts_created": _scalar(
                "SELECT count(*) FROM crm_contact WHERE id > %s", [m.contact]
            ),
            "accounts_created": _scalar(
                "SELECT count(*) FROM crm_account WHERE id > %s", [m.account]
            ),
            "leads_to_existing": _scalar(
                "SELECT count(*) FROM crm_lead WHERE id > %s AND parent_contact_id <= %s",
                [m.lead, m.contact],
            ),
            "leads_account_mismatch": _scalar(
                "SELECT count(*) FROM crm_lead l"
                " JOIN crm_contact c ON c.id = l.parent_contact_id WHERE l.id > %s"
                " AND coalesce(l.parent_account_id, 0) <> coalesce(c.account_id, 0)",
                [m.lead],
            ),
            "new_contacts_not_marketing_only": _scalar(
                "SELECT count(*) FROM crm_contact WHERE id > %s AND NOT marketing_only",
                [m.contact],
            ),
            "links_fingerprint": _fingerprint(links),
        }

    def restore(self, ctx: Context) -> None:
        m = self.marks
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM imports_importrowerror WHERE job_id > %s", [m.job])
            cursor.execute("DELETE FROM imports_importjob WHERE id > %s", [m.job])
            delete_lead_dependents_above(cursor, m.lead)
            cursor.execute("DELETE FROM crm_lead WHERE id > %s", [m.lead])
            cursor.execute("DELETE FROM crm_contact WHERE id > %s", [m.contact])
            cursor.execute("DELETE FROM crm_account WHERE id > %s", [m.account])
            cursor.execute(
                "DELETE FROM audit_auditentry WHERE record_type = 'imports.importjob'"
                " AND record_id > %s",
                [m.job],
            )
        shutil.rmtree(self.folder / "media", ignore_errors=True)

    def teardown(self, ctx: Context) -> None:
        self.media.disable()
        shutil.rmtree(self.folder, ignore_errors=True)

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        e = self.expected

        def check(fact: str, expected: Any) -> Check:
            if baseline is None:
                return Check(expected=expected, ours=ours[fact])
            return Check(expected=expected, ours=ours[fact], baseline=baseline[fact])

        return {
            "leads_created": check("leads_created", e.rows),
            "contacts_created": check("contacts_created", e.contacts_created),
            "accounts_created": check("accounts_created", e.accounts_created),
            "leads_linked_to_existing": check("leads_to_existing", e.leads_to_existing),
            "leads_account_mismatch": check("leads_account_mismatch", 0),
            "new_contacts_marketing_only": check("new_contacts_not_marketing_only", 0),
            "links_match_input": check("links_fingerprint", e.links_fingerprint),
        }


# The baselines' statements. Normalisation is lower(trim(…)): the generated input is ASCII.

SQLITE_ACCOUNTS = """
INSERT INTO crm_account (created_at, updated_at, owner_id, name, web_domain, industry,
    employees, annual_revenue, country)
SELECT :now, :now, NULL, s.company, lower(s.website), '', NULL, NULL, ''
FROM import_stage s
WHERE s.seq IN (SELECT min(seq) FROM import_stage WHERE website <> '' GROUP BY lower(website))
  AND NOT EXISTS (SELECT 1 FROM crm_account a WHERE a.web_domain = lower(s.website))
ORDER BY s.seq
"""
SQLITE_CONTACTS = """
INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized, first_name,
    last_name, job_title, role, phone, country, account_id, marketing_only, consent,
    origin_channel)
SELECT :now, :now, NULL, trim(s.email), lower(trim(s.email)), s.first_name, s.last_name, '',
    'other', '', '', (SELECT a.id FROM crm_account a WHERE a.web_domain = lower(s.website)
                      ORDER BY a.id LIMIT 1), 1, 'unknown', 'import'
FROM import_stage s
WHERE true
ORDER BY s.seq
ON CONFLICT (email_normalized) DO NOTHING
"""
SQLITE_LEADS = """
INSERT INTO crm_lead (created_at, updated_at, owner_id, topic, source_channel, origin_ref,
    campaign, parent_contact_id, parent_account_id, status, sales_ready, telemarketing_ready,
    description)
SELECT :now, :now, NULL, s.topic, 'import', 'import:bench', s.campaign, c.id, c.account_id,
    'open', 0, 0, ''
FROM import_stage s JOIN crm_contact c ON c.email_normalized = lower(trim(s.email))
ORDER BY s.seq
"""
PG_ACCOUNTS = """
INSERT INTO crm_account (created_at, updated_at, owner_id, name, web_domain, industry,
    employees, annual_revenue, country)
SELECT DISTINCT ON (lower(s.website)) %(now)s, %(now)s, NULL, s.company, lower(s.website), '',
    NULL::int, NULL::numeric, ''
FROM import_stage s
WHERE s.website <> ''
  AND NOT EXISTS (SELECT 1 FROM crm_account a WHERE a.web_domain = lower(s.website))
ORDER BY lower(s.website), s.seq
"""
PG_CONTACTS = """
INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized, first_name,
    last_name, job_title, role, phone, country, account_id, marketing_only, consent,
    origin_channel)
SELECT %(now)s, %(now)s, NULL, trim(s.email), lower(trim(s.email)), s.first_name, s.last_name,
    '', 'other', '', '', a.id, true, 'unknown', 'import'
FROM import_stage s
LEFT JOIN LATERAL (SELECT id FROM crm_account WHERE web_domain = lower(s.website)
                   ORDER BY id LIMIT 1) a ON true
ORDER BY s.seq
ON CONFLICT (email_normalized) DO NOTHING
"""
PG_LEADS = """
INSERT INTO crm_lead (created_at, updated_at, owner_id, topic, source_channel, origin_ref,
    campaign, parent_contact_id, parent_account_id, status, sales_ready, telemarketing_ready,
    description)
SELECT %(now)s, %(now)s, NULL, s.topic, 'import', 'import:bench', s.campaign, c.id,
    c.account_id, 'open', false, false, ''
FROM import_stage s JOIN crm_contact c ON c.email_normalized = lower(trim(s.email))
ORDER BY s.seq
"""
