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


def _measure(
    ctx: Context, workload: Workload, job: Callable[[Context], Outcome], repeat: int
) -> tuple[Measurement, bool]:
    """Run ``job`` ``repeat`` times, each from the same state; keep the fastest run.

    Returns the measurement and whether every repeat wrote the same facts.
    """
    best: Measurement | None = None
    facts_seen: list[Facts] = []
    for _ in range(repeat):
        gc.collect()
        per_run = _reset_peak_rss()
        rss_before = _rss_mb("VmRSS")
        started = time.perf_counter()
        outcome = job(ctx)
        seconds = time.perf_counter() - started
        peak = _peak_rss_mb(per_run)
        facts = workload.observe(ctx)
        facts_seen.append(facts)
        workload.restore(ctx)
        if workload.tables:
            ctx.engine.settle(workload.tables)
        if best is None or seconds < best.seconds:
            best = Measurement(
                outcome=outcome,
                seconds=seconds,
                peak_rss_mb=peak,
                rss_before_mb=rss_before,
                facts=facts,
            )
    assert best is not None
    return best, all(f == facts_seen[0] for f in facts_seen)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_workload(
    workload: Workload, ctx: Context, *, repeat: int, console: Console
) -> dict[str, Any]:
    """Measure ``workload`` our way and against each of its baselines; the results-file entry."""
    console.print(f"[bold]{workload.name}[/]: setup")
    workload.setup(ctx)
    try:
        console.print(f"[bold]{workload.name}[/]: ours")
        ours, ours_repeatable = _measure(ctx, workload, workload.run, repeat)
        console.print(f"  {ours.seconds:.3f} s")
        measured: list[_BaselineRun] = []
        for baseline in workload.baselines(ctx):
            console.print(f"[bold]{workload.name}[/]: baseline {baseline.name}")
            measurement, repeatable = _measure(ctx, workload, baseline.run, repeat)
            checks = workload.checks(ctx, ours.facts, measurement.facts)
            valid = all(c.ok for c in checks.values())
            console.print(
                f"  {measurement.seconds:.3f} s{'' if valid else '  [red]checks fail[/]'}"
            )
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
