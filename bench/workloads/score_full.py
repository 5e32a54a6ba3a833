# ruff: noqa: E501 - rule tables and the baseline SQL read best on one line each
"""Workload ``score_full``: a full recompute of a ten-rule scoring model over the dataset.

Setup makes a live contact-based model (without queueing its recompute) with ten rules over
every kind of condition: contact fields (role, job title), account fields (industry,
employees), and interactions with each frequency (*each*, *at least*, *none*) and windows of
30 to 365 days before the dataset's "now". Ours is
``leadcycle.scoring.services.model_recompute``: id batches of 50,000 leads, each an upsert of
the scores, the history rows, and sales-ready flags with their audit entries.

The baseline is the same scores in one hand-written ``INSERT … SELECT``: the interactions
aggregated once per contact (``GROUP BY contact_id`` with conditional counts), joined to the
open leads, their contacts and accounts, the score a sum of ``CASE`` terms and the grade a
``CASE`` on it, written to the same score table. It keeps no history and sets no flags.

Checks: the leads scored equal the eligible leads (open, with a contact); ours and the
baseline give the same score to every lead (count, sum and a fingerprint of (lead, score)).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection

from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register
from leadcycle.scoring.models import ScoringModel, ScoringRule
from leadcycle.scoring.services import model_recompute, scoring_settings

GRADES = [
    {"name": "Cold", "min": -1000, "max": 19},
    {"name": "Warm", "min": 20, "max": 49},
    {"name": "Hot", "min": 50, "max": 100000},
]
SALES_READY = 60


def _expr(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


RULES: list[dict[str, Any]] = [
    {"name": "Decision maker", "points": 20,
     "conditions": [{"entity": "contact", "where": [_expr("role", "eq", "decision_maker")]}]},
    {"name": "C-level title", "points": 10,
     "conditions": [{"entity": "contact", "where": [_expr("job_title", "in", ["CEO", "CTO", "CFO"])]}]},
    {"name": "Target industry", "points": 5,
     "conditions": [{"entity": "account", "where": [_expr("industry", "in", ["Software", "Finance"])]}]},
    {"name": "Over 100 employees", "points": 5,
     "conditions": [{"entity": "account", "where": [_expr("employees", "gt", 100)]}]},
    {"name": "Each click in 90 days", "points": 3,
     "conditions": [{"entity": "interaction", "kind": "email_clicked", "frequency": "each", "within_days": 90}]},
    {"name": "Opened in 30 days", "points": 2,
     "conditions": [{"entity": "interaction", "kind": "email_opened", "frequency": "at_least", "within_days": 30}]},
    {"name": "Submitted a form", "points": 15,
     "conditions": [{"entity": "interaction", "kind": "form_submitted", "frequency": "at_least"}]},
    {"name": "Each visit in a year", "points": 1,
     "conditions": [{"entity": "interaction", "kind": "website_visited", "frequency": "each", "within_days": 365}]},
    {"name": "Checked in at an event", "points": 10,
     "conditions": [{"entity": "interaction", "kind": "event_checked_in", "frequency": "at_least"}]},
    {"name": "Silent for a year", "points": -10,
     "conditions": [{"entity": "interaction", "kind": "email_opened", "frequency": "none", "within_days": 365}]},
]  # fmt: skip

BASELINE_SQL = """
INSERT INTO scoring_leadscore (lead_id, model_id, score, grade, model_version, previous_score,
                               computed_at, changed_at)
SELECT s.lead_id, %(model)s, s.score,
       CASE WHEN s.score <= 19 THEN 'Cold' WHEN s.score <= 49 THEN 'Warm' ELSE 'Hot' END,
       1, NULL, %(now)s, %(now)s
FROM (
  SELECT l.id AS lead_id,
         (CASE WHEN c.role = 'decision_maker' THEN 20 ELSE 0 END)
       + (CASE WHEN lower(c.job_title) IN ('ceo', 'cto', 'cfo') THEN 10 ELSE 0 END)
       + (CASE WHEN lower(a.industry) IN ('software', 'finance') THEN 5 ELSE 0 END)
       + (CASE WHEN a.employees > 100 THEN 5 ELSE 0 END)
       + 3 * COALESCE(i.clicks_90, 0)
       + (CASE WHEN COALESCE(i.opens_30, 0) > 0 THEN 2 ELSE 0 END)
       + (CASE WHEN COALESCE(i.forms, 0) > 0 THEN 15 ELSE 0 END)
       + COALESCE(i.visits_365, 0)
       + (CASE WHEN COALESCE(i.checkins, 0) > 0 THEN 10 ELSE 0 END)
       - (CASE WHEN COALESCE(i.opens_365, 0) = 0 THEN 10 ELSE 0 END) AS score
  FROM crm_lead l
  JOIN crm_contact c ON c.id = l.parent_contact_id
  LEFT JOIN crm_account a ON a.id = c.account_id
  LEFT JOIN (
    SELECT contact_id,
           SUM(CASE WHEN kind = 'email_clicked' AND occurred_at >= %(d90)s THEN 1 ELSE 0 END) AS clicks_90,
           SUM(CASE WHEN kind = 'email_opened' AND occurred_at >= %(d30)s THEN 1 ELSE 0 END) AS opens_30,
           SUM(CASE WHEN kind = 'email_opened' AND occurred_at >= %(d365)s THEN 1 ELSE 0 END) AS opens_365,
           SUM(CASE WHEN kind = 'form_submitted' THEN 1 ELSE 0 END) AS forms,
           SUM(CASE WHEN kind = 'website_visited' AND occurred_at >= %(d365)s THEN 1 ELSE 0 END) AS visits_365,
           SUM(CASE WHEN kind = 'event_checked_in' THEN 1 ELSE 0 END) AS checkins
    FROM crm_interaction
    WHERE kind IN ('email_clicked', 'email_opened', 'form_submitted', 'website_visited',
                   'event_checked_in')
    GROUP BY contact_id
  ) i ON i.contact_id = c.id
  WHERE l.status = 'open'
) s
"""


def live_model(name: str) -> ScoringModel:
    """The ten-rule model, live (without queueing its recompute)."""
    ScoringModel.objects.filter(name=name).delete()
    model = ScoringModel.objects.create(
        name=name, target="contact", status="live", sales_ready_score=SALES_READY, grades=GRADES
    )
    ScoringRule.objects.bulk_create(
        ScoringRule(model=model, position=n, **rule) for n, rule in enumerate(RULES)
    )
    return model


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


@register
class ScoreFull(Workload):
    name = "score_full"
    description = "Full recompute of a ten-rule scoring model over every open lead with a contact"
    tables = ("scoring_leadscore", "scoring_leadscorechange", "crm_lead", "audit_auditentry")

    model: ScoringModel
    audit_mark: int
    now: datetime.datetime

    def setup(self, ctx: Context) -> None:
        settings = scoring_settings()
        settings.auto_sales_ready = True
        settings.rescore_batch_size = 50_000
        settings.save()
        self.model = live_model("Bench ten-rule model")
        self.now = ctx.dataset.anchor
        self.audit_mark = _scalar("SELECT coalesce(max(id), 0) FROM audit_auditentry")

    def run(self, ctx: Context) -> Outcome:
        became = model_recompute(model_id=self.model.pk, now=self.now)
        return Outcome(rows=self._scored(), details={"became_sales_ready": became})

    def _scored(self) -> int:
        return int(
            _scalar("SELECT count(*) FROM scoring_leadscore WHERE model_id = %s", [self.model.pk])
        )

    def baselines(self, ctx: Context) -> list[Baseline]:
        def run(ctx: Context) -> Outcome:
            days = {f"d{n}": self.now - datetime.timedelta(days=n) for n in (30, 90, 365)}
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, {"model": self.model.pk, "now": self.now, **days})
            return Outcome(rows=self._scored())

        return [
            Baseline(f"{connection.vendor}: one INSERT … SELECT with per-contact aggregates", run)
        ]

    def observe(self, ctx: Context) -> Facts:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(sum(score), 0), coalesce(sum((lead_id %% 997) * score), 0)"
                " FROM scoring_leadscore WHERE model_id = %s",
                [self.model.pk],
            )
            count, total, fingerprint = cursor.fetchone()
        return {"scored": int(count), "score_sum": int(total), "fingerprint": int(fingerprint)}

    def restore(self, ctx: Context) -> None:
        with connection.cursor() as cursor:
            # Leads the run made sales-ready go back, found through their audit entries.
            cursor.execute(
                "UPDATE crm_lead SET sales_ready = %s WHERE id IN (SELECT record_id FROM"
                " audit_auditentry WHERE id > %s AND record_type = 'crm.lead')",
                [False, self.audit_mark],
            )
            cursor.execute("DELETE FROM audit_auditentry WHERE id > %s", [self.audit_mark])
            cursor.execute(
                "DELETE FROM scoring_leadscorechange WHERE model_id = %s", [self.model.pk]
            )
            cursor.execute("DELETE FROM scoring_leadscore WHERE model_id = %s", [self.model.pk])

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        eligible = int(
            _scalar(
                "SELECT count(*) FROM crm_lead WHERE status = 'open' AND parent_contact_id IS NOT NULL"
            )
        )
        result = {
            "scored": Check(eligible, ours["scored"], (baseline or {}).get("scored", eligible))
        }
        if baseline is not None:
            for fact in ("score_sum", "fingerprint"):
                result[fact] = Check(baseline[fact], ours[fact], baseline[fact])
        return result

    def teardown(self, ctx: Context) -> None:
        ScoringModel.objects.filter(pk=self.model.pk).delete()
