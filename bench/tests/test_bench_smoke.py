"""The harness end to end at a tiny scale: it runs, writes valid results and the checks pass."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.report import update_markdown

REPO = Path(__file__).resolve().parents[2]
WORKLOAD_KEYS = {
    "name", "rows", "seconds", "rows_per_s", "baseline", "baseline_seconds", "ratio",
    "peak_rss_mb", "checks",
}  # fmt: skip


def test_tiny_run_on_sqlite_writes_valid_results(tmp_path: Path) -> None:
    # given a scratch folder for the database, the results and the docs page
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nIntro stays.\n")
    # when the harness runs at the tiny scale on SQLite, in its own process as `make bench` does
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "tiny", "--db", "sqlite",
         "--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path / "results"),
         "--docs", str(docs)],
        cwd=REPO, env={**os.environ, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    # then it succeeds and writes results for every workload, all checks passing
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results" / "tiny-sqlite.json").read_text())
    assert {"cpu_count", "memory_mb", "python", "database", "platform", "date"} <= set(
        results["machine"]
    )
    assert results["dataset"]["counts"]["contacts"] == 300
    assert results["dataset"]["foreign_key_violations"] == 0
    names = [w["name"] for w in results["workloads"]]
    assert {"contacts_with_leads_service", "intake_http", "score_full", "score_incremental"} <= set(
        names
    )
    for workload in results["workloads"]:
        assert set(workload) >= WORKLOAD_KEYS, workload["name"]
        assert workload["seconds"] > 0
        # a ratio exactly where there is a baseline (score_incremental measures latency alone)
        assert (workload["ratio"] is None) == (workload["baseline"] is None), workload["name"]
        failing = {k: c for k, c in workload["checks"].items() if not c["ok"]}
        assert not failing, failing
    service = results["workloads"][names.index("contacts_with_leads_service")]
    assert service["checks"]["duplicate_contacts"]["ours"] == 0
    assert service["checks"]["duplicate_contacts"]["baseline"] == 0
    assert service["checks"]["contacts_created"]["ours"] > 0
    # and the docs page gained its table without losing what was there
    text = docs.read_text()
    assert "Intro stays." in text
    assert "<!-- bench:tiny-sqlite -->" in text and "| `contacts_with_leads_service` |" in text
    # and nothing was written outside the scratch folder
    assert (tmp_path / "work" / "tiny.sqlite3").exists()


def test_docs_table_replaces_only_its_own_section(tmp_path: Path) -> None:
    # given a page with the tables of two runs
    page = tmp_path / "benchmarks.md"
    update_markdown(page, "small-sqlite", "old sqlite table")
    update_markdown(page, "small-postgres", "postgres table")
    # when the SQLite run is repeated
    update_markdown(page, "small-sqlite", "new sqlite table")
    # then its table is replaced in place and the other one is kept
    text = page.read_text()
    assert "old sqlite table" not in text
    assert text.index("new sqlite table") < text.index("postgres table")
    assert text.count("<!-- bench:small-sqlite -->") == 1
