# ruff: noqa: E501, S608 - SQL reads best on one line each; table names fixed, values parameters
"""Workload ``workflow_orphans``: the built-in orphan-lead workflow switched on for the existing
orphans (LC-7), the bulk path of the workflow engine.

Setup adds ``workload_rows`` open leads without a contact (untimed, one ``INSERT … SELECT``):
every fourth carries the email of an existing contact (it must be linked to it), the others a
new email, some pairs sharing one (one contact for both); each names one of 300 companies, a
third of them existing account names. It switches the built-in workflow on without applying it.
Ours is ``dispatch.existing_apply``: the runs inserted per chunk of 5,000 leads, the contacts
matched by email, the missing accounts and contacts created, the leads linked and audited — a
fixed number of statements per chunk. (What listeners do after each commit is queued as tasks
on the database backend and not run here.)

The baseline does the linking in hand-written SQL: insert the missing accounts, insert one
contact per new email, point the leads at the contacts by email. It keeps no runs and no audit.

Checks: every added lead linked; the contacts created equal the new emails; the leads linked to
existing contacts equal the quarter that carried their email; the accounts created equal the
new company names of the leads whose contacts are created.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register
from leadcycle.workflows.builtins import ORPHAN
from leadcycle.workflows.dispatch import enabled_cache_clear
from leadcycle.workflows.models import Workflow, WorkflowRun

TOPIC = "bench orphan lead"
COMPANIES = 300


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


@register
class WorkflowOrphans(Workload):
    name = "workflow_orphans"
    description = "The orphan-lead workflow over existing orphans: match or create contacts, link"
    tables = ("crm_lead", "crm_contact", "crm_account", "audit_auditentry", "workflows_workflowrun")

    workflow: Workflow
    marks: dict[str, int]
    expected: dict[str, int]
    started: datetime.datetime

    def setup(self, ctx: Context) -> None:
        n = ctx.scale.workload_rows
        self.marks = {
            table: int(_scalar(f"SELECT coalesce(max(id), 0) FROM {table}"))
            for table in ("crm_lead", "crm_contact", "crm_account", "audit_auditentry")
        }
        self.started = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT email_normalized FROM crm_contact WHERE email_normalized IS NOT NULL ORDER BY id LIMIT %s",
                [n // 4 + 1],
            )
            known = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT name FROM crm_account ORDER BY id LIMIT %s", [COMPANIES // 3])
            existing_names = [row[0] for row in cursor.fetchall()]
        companies = existing_names + [
            f"Bench Orphan Co {k}" for k in range(COMPANIES - len(existing_names))
        ]
        now = timezone.now()
        rows = []
        for i in range(n):
            if i % 4 == 0 and i // 4 < len(known):
                email = known[i // 4]
            else:
                email = f"orphan{i - i % 10 if i % 10 == 1 else i}@orphans.bench"  # pairs share one
            rows.append((TOPIC, "manual", "", "", f"First{i}", f"Last{i}", email,
                         companies[i % len(companies)], None, None, "open", "", False, False, "", None, now, now))  # fmt: skip
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO crm_lead (topic, source_channel, origin_ref, campaign, first_name, last_name, email,"
                " company_name, parent_contact_id, parent_account_id, status, status_reason, sales_ready,"
                " telemarketing_ready, description, owner_id, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        emails = [row[6] for row in rows]
        known_set = set(known)
        first_of_new: dict[str, int] = {}
        for i, email in enumerate(emails):
            if email not in known_set:
                first_of_new.setdefault(email, i)
        lower_names = {name.lower() for name in existing_names}
        self.expected = {
            "linked": n,
            "to_existing": sum(1 for e in emails if e in known_set),
            "contacts_created": len({e for e in emails if e not in known_set}),
            # A company is created for the first lead of each new email (the one whose contact
            # is made) when no account has its name.
            "accounts_created": len(
                {rows[first][7].lower() for first in first_of_new.values()} - lower_names
            ),
        }
        self.workflow = Workflow.objects.get(builtin=ORPHAN)
        Workflow.objects.filter(pk=self.workflow.pk).update(enabled=True, enabled_at=now)
        enabled_cache_clear()
        self.workflow.refresh_from_db()

    def run(self, ctx: Context) -> Outcome:
        from leadcycle.workflows.dispatch import existing_apply

        runs = existing_apply(self.workflow)
        return Outcome(rows=ctx.scale.workload_rows, details={"runs": runs})

    def baselines(self, ctx: Context) -> list[Baseline]:
        def run(ctx: Context) -> Outcome:
            lead, now = self.marks["crm_lead"], timezone.now()
            account = self.marks["crm_account"]
            # The leads whose contact is made: the first of each email no contact has.
            firsts = (
                "SELECT l.* FROM crm_lead l WHERE l.id IN (SELECT min(id) FROM crm_lead WHERE id > %s"
                " AND parent_contact_id IS NULL GROUP BY email)"
                " AND NOT EXISTS (SELECT 1 FROM crm_contact c WHERE c.email_normalized = l.email)"
            )
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS bench_account_names")
                cursor.execute(
                    "CREATE TEMP TABLE bench_account_names AS SELECT lower(name) AS lname, min(id) AS id"
                    " FROM crm_account GROUP BY lower(name)"
                )
                cursor.execute(
                    "CREATE INDEX bench_account_names_idx ON bench_account_names (lname)"
                )
                cursor.execute(
                    "INSERT INTO crm_account (name, web_domain, industry, country, employees, annual_revenue, owner_id, created_at, updated_at)"
                    f" SELECT min(f.company_name), '', '', '', NULL, NULL, NULL, %s, %s FROM ({firsts}) f"
                    " WHERE NOT EXISTS (SELECT 1 FROM bench_account_names n WHERE n.lname = lower(f.company_name))"
                    " GROUP BY lower(f.company_name)",
                    [now, now, lead],
                )
                cursor.execute(
                    "INSERT INTO bench_account_names SELECT lower(name), id FROM crm_account WHERE id > %s",
                    [account],
                )
                cursor.execute(
                    "INSERT INTO crm_contact (email, email_normalized, first_name, last_name, job_title, role, phone, country, account_id,"
                    " marketing_only, consent, origin_channel, owner_id, created_at, updated_at, import_key)"
                    " SELECT f.email, f.email, f.first_name, f.last_name, '', 'other', '', '', n.id,"
                    f" %s, 'unknown', f.source_channel, NULL, %s, %s, 'orphan-lead:' || f.id FROM ({firsts}) f"
                    " LEFT JOIN bench_account_names n ON n.lname = lower(f.company_name)",
                    [True, now, now, lead],
                )
                cursor.execute(
                    "UPDATE crm_lead SET parent_contact_id = (SELECT c.id FROM crm_contact c WHERE c.email_normalized = crm_lead.email),"
                    " parent_account_id = (SELECT c.account_id FROM crm_contact c WHERE c.email_normalized = crm_lead.email), updated_at = %s"
                    " WHERE id > %s AND parent_contact_id IS NULL",
                    [now, lead],
                )
                cursor.execute("DROP TABLE bench_account_names")
            return Outcome(rows=ctx.scale.workload_rows)

        return [
            Baseline(f"{connection.vendor}: INSERT … SELECT accounts and contacts, one UPDATE", run)
        ]

    def observe(self, ctx: Context) -> Facts:
        lead, contact = self.marks["crm_lead"], self.marks["crm_contact"]
        return {
            "linked": int(_scalar("SELECT count(*) FROM crm_lead WHERE id > %s AND parent_contact_id IS NOT NULL", [lead])),
            "to_existing": int(_scalar("SELECT count(*) FROM crm_lead WHERE id > %s AND parent_contact_id <= %s", [lead, contact])),
            "contacts_created": int(_scalar("SELECT count(*) FROM crm_contact WHERE id > %s", [contact])),
            "accounts_created": int(_scalar("SELECT count(*) FROM crm_account WHERE id > %s", [self.marks["crm_account"]])),
        }  # fmt: skip

    def restore(self, ctx: Context) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_lead SET parent_contact_id = NULL, parent_account_id = NULL WHERE id > %s",
                [self.marks["crm_lead"]],
            )
            cursor.execute("DELETE FROM crm_contact WHERE id > %s", [self.marks["crm_contact"]])
            cursor.execute("DELETE FROM crm_account WHERE id > %s", [self.marks["crm_account"]])
            cursor.execute(
                "DELETE FROM audit_auditentry WHERE id > %s", [self.marks["audit_auditentry"]]
            )
        # What the run queued for the listeners (rescoring, segments, the process rules).
        DBTaskResult.objects.filter(enqueued_at__gte=self.started).delete()
        WorkflowRun.objects.filter(workflow=self.workflow).delete()

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        return {
            fact: Check(expected, ours[fact], (baseline or {}).get(fact, expected))
            for fact, expected in self.expected.items()
        }

    def teardown(self, ctx: Context) -> None:
        from bench.cleanup import delete_lead_dependents_above

        self.restore(ctx)
        with connection.cursor() as cursor:
            delete_lead_dependents_above(cursor, self.marks["crm_lead"])
            cursor.execute("DELETE FROM crm_lead WHERE id > %s", [self.marks["crm_lead"]])
        Workflow.objects.filter(pk=self.workflow.pk).update(enabled=False, enabled_at=None)
        enabled_cache_clear()
