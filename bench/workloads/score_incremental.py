# ruff: noqa: E501
# ruff: noqa: S608 - table names are fixed here, values are parameters
"""Workload ``score_incremental``: how soon a score follows a new interaction.

Setup makes the ten-rule model of ``score_full`` live and scores every lead (untimed), picks
contacts with an open lead, and starts the background worker the way a deployment runs it
(``leadcycle worker``: the database queue, polling every 0.2 s when idle) against the bench
database. The run then records one ``email_clicked`` per picked contact through
``interactions_ingest``, one at a time at random moments (0-0.25 s apart), and measures the time from the committed interaction
to the lead's score row showing the rescore (its ``computed_at`` moves), polling every 5 ms.
Each click is worth 3 points (the model's *each click in 90 days* rule), so the expected new
score is known; a lead that crosses the sales-ready score must be flagged by then.

There is no hand-written baseline: the interesting number is the latency, against LC-4's
target of p99 under one second.
"""

from __future__ import annotations

import datetime
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bench.registry import Check, Context, Facts, Outcome, Workload, register
from bench.workloads.score_full import SALES_READY, live_model
from leadcycle.interactions.services import interactions_ingest
from leadcycle.scoring.models import ScoringModel
from leadcycle.scoring.services import live_cache_clear, model_recompute

REPO = Path(__file__).resolve().parents[2]
EVENTS = {"tiny": 20, "small": 100, "medium": 200, "large": 200}
TARGET_P99_MS = 1000
TIMEOUT_S = 10.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@register
class ScoreIncremental(Workload):
    name = "score_incremental"
    description = "Latency from a recorded interaction to the rescored lead, with a worker running"
    tables = ("scoring_leadscore", "scoring_leadscorechange", "crm_interaction", "crm_lead")

    model: ScoringModel
    picks: list[tuple[int, int]]
    worker: subprocess.Popen[bytes] | None = None
    started: datetime.datetime
    marks: dict[str, int]
    last: dict[str, Any]

    def setup(self, ctx: Context) -> None:
        self.model = live_model("Bench incremental model")
        live_cache_clear()
        model_recompute(model_id=self.model.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, min(l.id) FROM crm_contact c JOIN crm_lead l ON l.parent_contact_id = c.id"
                " JOIN scoring_leadscore s ON s.lead_id = l.id AND s.model_id = %s"
                " WHERE l.status = 'open' GROUP BY c.id ORDER BY c.id",
                [self.model.pk],
            )
            candidates = cursor.fetchall()
        rng = random.Random(f"{ctx.seed}:score_incremental")
        n = EVENTS.get(ctx.scale.name, 100)
        self.picks = rng.sample(candidates, min(n, len(candidates)))
        self.marks = {}
        for table in ("crm_interaction", "scoring_leadscorechange", "audit_auditentry"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                self.marks[table] = cursor.fetchone()[0]
        self.started = timezone.now()
        env = {**os.environ, "LEADCYCLE_TASKS": "db", "LEADCYCLE_WORKER_INTERVAL": "0.2"}
        log = (
            Path(os.environ.get("LEADCYCLE_DATA_DIR", REPO / "var"))
            / "score_incremental-worker.log"
        )
        with log.open("ab") as out:
            self.worker = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, str(REPO / "manage.py"), "worker"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        time.sleep(3)  # the worker imports Django and starts polling
        if self.worker.poll() is not None:
            raise RuntimeError(f"the worker exited: see {log}")

    def _score(self, lead_id: int) -> tuple[Any, int, bool]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.computed_at, s.score, l.sales_ready FROM scoring_leadscore s"
                " JOIN crm_lead l ON l.id = s.lead_id WHERE s.lead_id = %s AND s.model_id = %s",
                [lead_id, self.model.pk],
            )
            row = cursor.fetchone()
        return (row[0], int(row[1]), bool(row[2])) if row else (None, 0, False)

    def run(self, ctx: Context) -> Outcome:
        latencies: list[float] = []
        timeouts = wrong_score = missed_sales_ready = 0
        pause = random.Random(f"{ctx.seed}:pauses")
        for contact_id, lead_id in self.picks:
            # Events arrive at random moments, not in step with the worker's polling.
            time.sleep(pause.uniform(0, 0.25))
            before_at, before_score, _ = self._score(lead_id)
            t0 = time.perf_counter()
            interactions_ingest(events=[{"kind": "email_clicked", "contact_id": contact_id}])
            while True:
                at, score, sales_ready = self._score(lead_id)
                if at != before_at:
                    latencies.append(time.perf_counter() - t0)
                    wrong_score += score != before_score + 3
                    missed_sales_ready += score >= SALES_READY and not sales_ready
                    break
                if time.perf_counter() - t0 > TIMEOUT_S:
                    timeouts += 1
                    break
                time.sleep(0.005)
        ms = [1000 * v for v in latencies] or [float("nan")]
        self.last = {
            "timeouts": timeouts,
            "wrong_score": wrong_score,
            "missed_sales_ready": missed_sales_ready,
        }
        details = {
            "events": len(self.picks),
            "latency_ms": {
                "p50": round(_percentile(ms, 0.50), 1),
                "p95": round(_percentile(ms, 0.95), 1),
                "p99": round(_percentile(ms, 0.99), 1),
                "max": round(max(ms), 1),
            },
            "worker_poll_interval_s": 0.2,
            "target": {"p99_ms": TARGET_P99_MS, "met": _percentile(ms, 0.99) < TARGET_P99_MS},
            **self.last,
        }
        return Outcome(rows=len(self.picks), details=details)

    def observe(self, ctx: Context) -> Facts:
        return dict(self.last)

    def restore(self, ctx: Context) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_lead SET sales_ready = %s WHERE id IN (SELECT record_id FROM"
                " audit_auditentry WHERE id > %s AND record_type = 'crm.lead')",
                [False, self.marks["audit_auditentry"]],
            )
            for table, mark in self.marks.items():
                cursor.execute(f"DELETE FROM {table} WHERE id > %s", [mark])
        DBTaskResult.objects.filter(enqueued_at__gte=self.started).delete()
        # Scores go back to what the untimed full recompute gave.
        model_recompute(model_id=self.model.pk)

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        return {
            key: Check(0, ours.get(key))
            for key in ("timeouts", "wrong_score", "missed_sales_ready")
        }

    def teardown(self, ctx: Context) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
        ScoringModel.objects.filter(pk=self.model.pk).delete()
        live_cache_clear()
