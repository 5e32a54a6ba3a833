"""Workloads ``segment_contoso`` and ``segment_behavioural``: a full refresh of one segment
over the dataset, through ``leadcycle.segments.services.segment_refresh`` (the query into a
scratch table, joiners and their history inserted set-based).

- ``segment_contoso``: the seed's example on the bench data: decision makers with a lead whose
  topic is "Conference registration".
- ``segment_behavioural``: contacts with at least 3 email clicks in the 90 days before the
  dataset's "now".

Baseline, in the same run: the same members written by one hand-written ``INSERT … SELECT``
into the members table (plain comparisons, ``EXISTS`` / ``GROUP BY … HAVING``), without
history. Checks: ours and the baseline write the same members (count and fingerprint).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection

from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register
from leadcycle.crm.models import Contact
from leadcycle.segments.models import Segment, SegmentMember
from leadcycle.segments.services import segment_refresh

CONTOSO = {
    "all": [
        {"field": "role", "op": "eq", "value": "decision_maker"},
        {"lead": {"all": [{"field": "topic", "op": "eq", "value": "Conference registration"}]}},
    ]
}
BEHAVIOURAL = {
    "all": [
        {"interaction": {"all": []}, "kind": "email_clicked", "count": {"at_least": 3},
         "within_days": 90},
    ]
}  # fmt: skip
CONTOSO_SQL = """
INSERT INTO segments_segmentmember (segment_id, contact_id, added_at)
SELECT %(segment)s, c.id, %(now)s FROM crm_contact c
WHERE c.role = 'decision_maker'
  AND EXISTS (SELECT 1 FROM crm_lead l WHERE l.parent_contact_id = c.id
              AND l.topic = 'Conference registration')
"""
BEHAVIOURAL_SQL = """
INSERT INTO segments_segmentmember (segment_id, contact_id, added_at)
SELECT %(segment)s, i.contact_id, %(now)s FROM crm_interaction i
WHERE i.kind = 'email_clicked' AND i.occurred_at >= %(since)s AND i.contact_id IS NOT NULL
GROUP BY i.contact_id HAVING COUNT(*) >= 3
"""


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


class _SegmentRefresh(Workload):
    query: dict[str, Any]
    baseline_sql: str
    tables = ("segments_segmentmember", "segments_membershipchange")

    segment: Segment
    now: datetime.datetime

    def setup(self, ctx: Context) -> None:
        Segment.objects.filter(name=self.name).delete()
        self.segment = Segment.objects.create(name=self.name, query=self.query, status="live")
        self.now = ctx.dataset.anchor

    def run(self, ctx: Context) -> Outcome:
        joined, _left = segment_refresh(segment=self.segment, now=self.now)
        return Outcome(rows=ctx.dataset.counts["contacts"], details={"members": joined})

    def baselines(self, ctx: Context) -> list[Baseline]:
        def run(ctx: Context) -> Outcome:
            with connection.cursor() as cursor:
                cursor.execute(
                    self.baseline_sql,
                    {
                        "segment": self.segment.pk,
                        "now": self.now,
                        "since": self.now - datetime.timedelta(days=90),
                    },
                )
            return Outcome(rows=ctx.dataset.counts["contacts"])

        return [Baseline(f"{connection.vendor}: one INSERT … SELECT", run)]

    def observe(self, ctx: Context) -> Facts:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(sum(contact_id %% 9973), 0)"
                " FROM segments_segmentmember WHERE segment_id = %s",
                [self.segment.pk],
            )
            count, fingerprint = cursor.fetchone()
        return {"members": int(count), "fingerprint": int(fingerprint)}

    def restore(self, ctx: Context) -> None:
        with connection.cursor() as cursor:
            for table in ("segments_segmentmember", "segments_membershipchange"):
                cursor.execute(f"DELETE FROM {table} WHERE segment_id = %s", [self.segment.pk])  # noqa: S608 - fixed names

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        if baseline is None:
            return {"members_found": Check(True, ours["members"] > 0)}
        return {
            fact: Check(baseline[fact], ours[fact], baseline[fact])
            for fact in ("members", "fingerprint")
        }

    def teardown(self, ctx: Context) -> None:
        Segment.objects.filter(pk=self.segment.pk).delete()


@register
class SegmentContoso(_SegmentRefresh):
    name = "segment_contoso"
    description = "Full refresh: decision makers with a 'Conference registration' lead"
    query = CONTOSO
    baseline_sql = CONTOSO_SQL


@register
class SegmentBehavioural(_SegmentRefresh):
    name = "segment_behavioural"
    description = "Full refresh: contacts with at least 3 email clicks in the last 90 days"
    query = BEHAVIOURAL
    baseline_sql = BEHAVIOURAL_SQL


@register
class SegmentIncremental(Workload):
    """How long one changed contact takes to be reflected in every live segment, measured
    around ``contacts_reevaluate`` (what the worker's task runs; the queue's wait, a poll
    interval of the database worker, is not counted). Setup makes five live segments — the
    Contoso example, the behavioural one, a country, a segment of a segment, and an account
    condition — refreshed in full; the run changes 200 random contacts' role one by one and
    re-evaluates each. Reported under ``details.latency_ms``; LC-5's target: under 50 ms."""

    name = "segment_incremental"
    description = "One changed contact re-evaluated against five live segments"
    tables = ("segments_segmentmember", "segments_membershipchange", "crm_contact")

    segments: list[Segment]
    picked: list[int]
    roles: dict[int, str]

    def setup(self, ctx: Context) -> None:
        import random

        Segment.objects.filter(name__startswith="Bench incremental").delete()
        queries = [
            CONTOSO,
            BEHAVIOURAL,
            {"all": [{"field": "country", "op": "eq", "value": "Sweden"}]},
            {"all": [{"account": {"all": [{"field": "employees", "op": "gt", "value": 1000}]}}]},
        ]
        self.segments = [
            Segment.objects.create(name=f"Bench incremental {n}", query=q, status="live")
            for n, q in enumerate(queries)
        ]
        nested = {"all": [{"segment": self.segments[0].pk},
                          {"field": "country", "op": "ne", "value": "Sweden"}]}  # fmt: skip
        self.segments.append(
            Segment.objects.create(name="Bench incremental nested", query=nested, status="live")
        )
        for segment in self.segments:
            segment_refresh(segment=segment, now=ctx.dataset.anchor)
        rng = random.Random(f"{ctx.seed}:segment_incremental")
        self.picked = rng.sample(range(1, ctx.dataset.max_ids["contact"] + 1), 200)
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(self.picked))
            cursor.execute(f"SELECT id, role FROM crm_contact WHERE id IN ({marks})", self.picked)  # noqa: S608 - placeholders
            self.roles = dict(cursor.fetchall())

    def run(self, ctx: Context) -> Outcome:
        import time

        from django.db import transaction

        from leadcycle.segments.services import contacts_reevaluate

        latencies = []
        for pk in self.picked:
            role = "influencer" if self.roles[pk] == "decision_maker" else "decision_maker"
            with transaction.atomic():
                Contact.objects.filter(pk=pk).update(role=role)
            started = time.perf_counter()
            contacts_reevaluate(contact_ids=[pk], now=ctx.dataset.anchor)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()

        def pct(p: float) -> float:
            return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

        p99 = pct(0.99)
        return Outcome(
            rows=len(self.picked),
            details={
                "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": p99,
                               "max": round(latencies[-1], 1)},
                "segments": len(self.segments),
                "target": {"p99_ms": 50, "met": p99 < 50},
            },
        )  # fmt: skip

    def observe(self, ctx: Context) -> Facts:
        # Every live segment's members equal what a full refresh finds.
        wrong = 0
        for segment in self.segments:
            before = set(
                SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True)
            )
            segment_refresh(segment=segment, now=ctx.dataset.anchor)
            after = set(
                SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True)
            )
            wrong += len(before ^ after)
        return {"members_differing_from_a_full_refresh": wrong}

    def restore(self, ctx: Context) -> None:
        for pk, role in self.roles.items():
            Contact.objects.filter(pk=pk).update(role=role)
        for segment in self.segments:
            segment_refresh(segment=segment, now=ctx.dataset.anchor)

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        return {
            "members_match_full_refresh": Check(0, ours["members_differing_from_a_full_refresh"])
        }

    def teardown(self, ctx: Context) -> None:
        Segment.objects.filter(pk__in=[s.pk for s in self.segments]).delete()
