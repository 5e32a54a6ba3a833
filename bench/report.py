"""The results: the machine they were measured on, the JSON file, the table in the docs."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django


def _total_memory_mb() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit(repo: Path) -> str | None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}{'-dirty' if dirty else ''}"


def machine_info(*, database: dict[str, str], repo: Path) -> dict[str, Any]:
    """Where and on what the numbers were measured."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_mb": _total_memory_mb(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        "git_commit": _git_commit(repo),
    }


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)  # never leave a half-written file for the smoke test to read


def _number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def markdown_section(results: dict[str, Any]) -> str:
    """The table for one scale and database, as it goes between the markers in the docs."""
    machine = results["machine"]
    db = machine["database"]
    dataset = results["dataset"]
    memory_gb = _number(machine["memory_mb"] / 1024 if machine["memory_mb"] else None)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset["counts"].items())
    lines = [
        f"### {results['scale']} · {db['engine']} {db['version']}",
        "",
        f"{machine['date'][:10]}, commit `{machine['git_commit']}`, {machine['cpu_count']} CPU "
        f"({machine['cpu']}), {memory_gb} GB RAM, "
        f"Python {machine['python']}, Django {machine['django']}.  ",
        f"Dataset (seed {dataset['seed']}): {counts}; generated in {dataset['seconds']:.1f} s.",
        "",
        "| workload | rows | ours s | ours rows/s | baseline | baseline s | baseline rows/s "
        "| ratio | peak RSS MB | checks |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for w in results["workloads"]:
        failed = [name for name, c in w["checks"].items() if not c["ok"]]
        lines.append(
            f"| `{w['name']}` | {w['rows']:,} | {w['seconds']:.3f} | {_number(w['rows_per_s'])} "
            f"| {w['baseline'] or '—'} | {_number(w['baseline_seconds'], 3)} "
            f"| {_number(w['baseline_rows_per_s'])} | {_number(w['ratio'], 2)} "
            f"| {w['peak_rss_mb']:.0f} "
            f"| {'all pass' if not failed else 'FAIL: ' + ', '.join(failed)} |"
        )
    # Workloads that serve requests also report latency and where the CPU went.
    served = [
        (w["name"], run_name, details)
        for w in results["workloads"]
        for run_name, details in [
            ("ours", w.get("details", {})),
            *((a["name"], a.get("details", {})) for a in w.get("baseline_alternatives", [])),
        ]
        if "latency_ms" in details
    ]
    if served:
        lines.append("")
    for name, run_name, details in served:
        lines.append(f"- `{name}`, {run_name}: {_served_summary(details)}")
    return "\n".join(lines)


def _served_summary(d: dict[str, Any]) -> str:
    """One line about a run that served requests: rate, latency, statuses, CPU."""
    lat = d["latency_ms"]
    rate = d.get("submissions_per_s")
    text = (f"{_number(rate)}/s, " if rate is not None else f"{d.get('events', '?')} events, ") + (
        f"latency ms p50 {_number(lat['p50'])} · "
        f"p95 {_number(lat['p95'])} · p99 {_number(lat['p99'])} · max {_number(lat['max'])}"
    )
    if statuses := d.get("status_counts"):
        text += "; responses " + ", ".join(f"{k}: {v:,}" for k, v in statuses.items())
    if per := d.get("cpu_ms_per_submission"):
        text += "; CPU ms per request " + ", ".join(
            f"{k.replace('_', ' ')} {_number(v, 1)}" for k, v in per.items() if v is not None
        )
    if cores := d.get("cpu_cores"):
        busy = ", ".join(
            f"{k.replace('_', ' ')} {_number(v, 2)}"
            for k, v in cores.items()
            if k != "cpu_count" and v is not None
        )
        text += f"; cores busy (of {cores.get('cpu_count')}): {busy}"
    if d.get("truncated"):
        text += "; stopped at the time limit"
    return text


def update_markdown(path: Path, key: str, section: str) -> None:
    """Replace the text between ``<!-- bench:KEY -->`` and ``<!-- /bench:KEY -->`` in
    ``path`` (appending the pair when absent), leaving other scales' tables alone."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
