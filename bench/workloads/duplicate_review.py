"""Workload ``duplicate_review``: the first page of the contacts' duplicate review
(``leadcycle.duplicates.selectors.duplicate_groups``) over the whole dataset: one grouped
query per rule (same first and last name, same phone, ignoring case and spaces) naming every
member, then the page's records by id and its dismissed pairs.

The bench names come from short lists, so the dataset holds many large groups of namesakes:
a harder case than a real customer base, where namesakes are rarer.

Baseline, in the same run: the bare grouped counts by hand (``GROUP BY UPPER(TRIM(…))
HAVING COUNT(*) > 1`` for each rule), which is what any answer must at least read. Check: the
same number of groups.
"""

from __future__ import annotations

from django.db import connection

from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register
from leadcycle.duplicates.selectors import duplicate_groups

COUNT_SQL = """
SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM crm_contact WHERE first_name <> '' AND last_name <> ''
        GROUP BY UPPER(TRIM(first_name)), UPPER(TRIM(last_name)) HAVING COUNT(*) > 1) n)
     + (SELECT COUNT(*) FROM (SELECT 1 FROM crm_contact WHERE phone <> ''
        GROUP BY UPPER(TRIM(phone)) HAVING COUNT(*) > 1) p)
"""


@register
class DuplicateReview(Workload):
    name = "duplicate_review"
    description = "Duplicate review: the first page of likely duplicate contacts"

    groups: int = 0

    def run(self, ctx: Context) -> Outcome:
        groups, total = duplicate_groups(entity="contact", page=1, page_size=20)
        self.groups = total
        return Outcome(
            rows=ctx.dataset.counts["contacts"], details={"groups": total, "shown": len(groups)}
        )

    def baselines(self, ctx: Context) -> list[Baseline]:
        def run(ctx: Context) -> Outcome:
            with connection.cursor() as cursor:
                cursor.execute(COUNT_SQL)
                self.groups = int(cursor.fetchone()[0])
            return Outcome(rows=ctx.dataset.counts["contacts"])

        return [Baseline(f"{connection.vendor}: grouped counts by hand", run)]

    def observe(self, ctx: Context) -> Facts:
        return {"groups": self.groups}

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        if baseline is None:
            return {"groups_found": Check(True, ours["groups"] > 0)}
        return {"groups": Check(baseline["groups"], ours["groups"], baseline["groups"])}
