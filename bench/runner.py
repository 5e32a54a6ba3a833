"""Runs a workload: times our run and each baseline, measures peak memory, collects checks."""

from __future__ import annotations

import gc
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rich.console import Console

from bench.registry import Check, Context, Facts, Outcome, Workload

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's resident memory (Linux ≥ 4.0),
    so the next reading is the peak of one run, not of the whole process so far."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _rss_mb(field: str) -> float | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) / 1024 if match else None


def _peak_rss_mb(per_run: bool) -> float:
    peak = _rss_mb("VmHWM") if per_run else None
    if peak is not None:
        return peak
    # ru_maxrss is in KiB on Linux: the peak of the whole process since it started.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _BaselineRun(NamedTuple):
    name: str
    measurement: Measurement
    valid: bool
    repeatable: bool


@dataclass(frozen=True)
class Measurement:
    outcome: Outcome
    seconds: float
    peak_rss_mb: float
    rss_before_mb: float | None
    facts: Facts


def _run_once(ctx: Context, workload: Workload, job: Callable[[Context], Outcome]) -> Measurement:
    """One timed run of ``job``, then the workload's state restored for the next one."""
    gc.collect()
    per_run = _reset_peak_rss()
    rss_before = _rss_mb("VmRSS")
    started = time.perf_counter()
    outcome = job(ctx)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb(per_run)
    facts = workload.observe(ctx)
    workload.restore(ctx)
    if workload.tables:
        ctx.engine.settle(workload.tables)
    return Measurement(
        outcome=outcome, seconds=seconds, peak_rss_mb=peak, rss_before_mb=rss_before, facts=facts
    )


def _measure_interleaved(
    ctx: Context,
    workload: Workload,
    jobs: list[tuple[str, Callable[[Context], Outcome]]],
    repeat: int,
    console: Console,
) -> dict[str, tuple[Measurement, bool]]:
    """Run every job ``repeat`` times, taking turns (ours, each baseline, ours, …), each from
    the same state; keep each job's fastest run. Taking turns puts ours and the baselines
    through the same minutes of a shared machine whose speed drifts, so their ratio drifts
    less than their rates. Returns, per job, the kept run and whether every run of it wrote
    the same facts."""
    best: dict[str, Measurement] = {}
    facts_seen: dict[str, list[Facts]] = {name: [] for name, _ in jobs}
    for _ in range(repeat):
        for name, job in jobs:
            measured = _run_once(ctx, workload, job)
            facts_seen[name].append(measured.facts)
            if name not in best or measured.seconds < best[name].seconds:
                best[name] = measured
    for name, _ in jobs:
        console.print(f"[bold]{workload.name}[/]: {name}  {best[name].seconds:.3f} s")
    return {
        name: (best[name], all(f == facts_seen[name][0] for f in facts_seen[name]))
        for name, _ in jobs
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_workload(
    workload: Workload, ctx: Context, *, repeat: int, console: Console
) -> dict[str, Any]:
    """Measure ``workload`` our way and against each of its baselines; the results-file entry."""
    console.print(f"[bold]{workload.name}[/]: setup")
    workload.setup(ctx)
    try:
        baselines = workload.baselines(ctx)
        console.print(
            f"[bold]{workload.name}[/]: ours and {len(baselines)} baseline(s), {repeat} turn(s)"
        )
        runs = _measure_interleaved(
            ctx,
            workload,
            [("ours", workload.run)] + [(f"baseline {b.name}", b.run) for b in baselines],
            repeat,
            console,
        )
        ours, ours_repeatable = runs["ours"]
        measured: list[_BaselineRun] = []
        for baseline in baselines:
            measurement, repeatable = runs[f"baseline {baseline.name}"]
            checks = workload.checks(ctx, ours.facts, measurement.facts)
            valid = all(c.ok for c in checks.values())
            if not valid:
                console.print(f"  [red]baseline {baseline.name}: checks fail[/]")
            measured.append(_BaselineRun(baseline.name, measurement, valid, repeatable))
        # The fastest correct one is the baseline: a wrong answer is no baseline, however
        # fast. When none is correct, the fastest is reported and its failing checks show.
        candidates = [run for run in measured if run.valid] or measured
        chosen = min(candidates, key=lambda run: run.measurement.seconds, default=None)
        base = chosen.measurement if chosen else None
        checks = workload.checks(ctx, ours.facts, base.facts if base else None)
    finally:
        workload.teardown(ctx)
    rows = ours.outcome.rows
    entry: dict[str, Any] = {
        "name": workload.name,
        "description": workload.description,
        "rows": rows,
        "seconds": round(ours.seconds, 4),
        "rows_per_s": round(rows / ours.seconds, 1) if ours.seconds else None,
        "baseline": chosen.name if chosen else None,
        "baseline_seconds": round(base.seconds, 4) if base else None,
        "baseline_rows_per_s": round(base.outcome.rows / base.seconds, 1) if base else None,
        # Ours divided by the baseline: 1.0 is as fast as hand-written SQL, 3.0 three times slower.
        "ratio": round(ours.seconds / base.seconds, 2) if base else None,
        # Resident memory of this process (PostgreSQL's server processes are not in it):
        # the peak during the fastest run, and what the process held when it started.
        "peak_rss_mb": round(ours.peak_rss_mb, 1),
        "rss_before_mb": _round(ours.rss_before_mb),
        "baseline_peak_rss_mb": round(base.peak_rss_mb, 1) if base else None,
        "checks": {name: check.as_json() for name, check in checks.items()},
        "details": dict(ours.outcome.details),
        "baseline_alternatives": [
            {
                "name": run.name,
                "seconds": round(run.measurement.seconds, 4),
                "checks_pass": run.valid,
                "details": dict(run.measurement.outcome.details),
            }
            for run in measured
        ],
        "repeat": repeat,
    }
    if repeat > 1:
        # Every repeat must write the same thing, or "the fastest run" means nothing.
        same = (
            Check(expected=True, ours=ours_repeatable, baseline=chosen.repeatable)
            if chosen
            else Check(expected=True, ours=ours_repeatable)
        )
        entry["checks"]["repeatable"] = same.as_json()
    entry["ok"] = all(c["ok"] for c in entry["checks"].values())
    return entry
