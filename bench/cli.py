"""The command line: pick a private database, migrate it, generate the dataset, run the
workloads, write ``bench/results/<scale>-<db>.json`` and the table in ``docs/benchmarks.md``.

Django is set up only after the environment points it at the benchmark's own database, so
the harness can never write to the app's database or the test suite's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from bench.engines import DEFAULT_POSTGRES_URL, Engine, PostgresEngine, SqliteEngine
from bench.scales import PUBLIC_SCALES, SCALES, Scale

if TYPE_CHECKING:
    from bench.dataset import Dataset

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SEED = 20_260_701


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Generate a dataset and run the benchmark workloads against it.",
    )
    parser.add_argument(
        "--scale",
        choices=list(SCALES),
        default="small",
        metavar="{" + ",".join(PUBLIC_SCALES) + "}",
        help="dataset size: small 10k contacts, medium 100k, large 1M (default small)",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workload", help="run only this workload (the docs are not updated)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"dataset seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="run each workload and baseline N times from the same state and keep the "
        "fastest (default 3, 1 at large)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server and database to use; the database is dropped and re-created "
        "(its name must contain 'bench')",
    )
    parser.add_argument(
        "--results-dir", type=Path, help="where <scale>-<db>.json goes (default bench/results)"
    )
    parser.add_argument(
        "--docs",
        type=Path,
        help="the page whose table is updated (default docs/benchmarks.md; CI points it elsewhere)",
    )
    # For the smoke test: the SQLite file (and the data folder) in a temporary folder.
    parser.add_argument("--work-dir", type=Path, help=argparse.SUPPRESS)
    return parser


def _configure_django(engine: Engine, work_dir: Path) -> None:
    """Point the app's settings at the benchmark database. Child processes inherit it."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadcycle.settings"
    os.environ["DATABASE_URL"] = engine.database_url()
    # The data folder holds the SQLite file and, without SECRET_KEY, a generated key: keep
    # both out of the app's own folder.
    os.environ["LEADCYCLE_DATA_DIR"] = str(work_dir)
    os.environ.setdefault("SECRET_KEY", "bench-only-key-never-used-to-serve-requests-0123456789")
    # DEBUG keeps every query in memory, which would distort time and peak memory.
    os.environ["DEBUG"] = "0"
    # Follow-up work is queued in the database, as in a default deployment.
    os.environ["LEADCYCLE_TASKS"] = "db"


def _migrate_and_generate(engine: Engine, scale: Scale, seed: int) -> Dataset:
    """Runs in a child process, so that what generation leaves in memory (freed but kept by
    the allocator, SQLite's load cache) does not count in the workloads' peak memory or slow
    their garbage collection."""
    import django

    django.setup()
    from django.core.management import call_command

    from bench.dataset import generate

    console = Console(stderr=True)
    console.print("migrating")
    call_command("migrate", interactive=False, verbosity=0)
    return generate(scale=scale, seed=seed, engine=engine, console=console)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    console = Console(stderr=True)
    scale = SCALES[args.scale]
    work_dir = (args.work_dir or REPO / "var" / "bench").resolve()
    engine: Engine
    if args.db == "sqlite":
        engine = SqliteEngine(
            path=work_dir / f"{scale.name}.sqlite3", check_foreign_keys=scale.check_foreign_keys
        )
    else:
        engine = PostgresEngine(url=args.postgres_url)
    started = time.perf_counter()
    _configure_django(engine, work_dir)
    import django

    django.setup()
    from bench.registry import REGISTRY, Context
    from bench.report import machine_info, markdown_section, update_markdown, write_json
    from bench.runner import run_workload
    from bench.workloads import __name__ as _registered  # noqa: F401 - registers workloads

    if args.workload and args.workload not in REGISTRY:
        raise SystemExit(f"Unknown workload {args.workload!r}; known: {', '.join(REGISTRY)}")
    repeat = args.repeat or scale.repeat
    console.print(f"[bold]bench[/] {scale.name} on {args.db}: {engine.database_url()}")
    engine.recreate()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        dataset = pool.apply(_migrate_and_generate, (engine, scale, args.seed))
    engine.foreign_key_violations = dataset.foreign_key_violations
    console.print(f"dataset: {dataset.counts} in {dataset.seconds:.1f} s")
    ctx = Context(scale=scale, seed=args.seed, engine=engine, dataset=dataset)
    names = [args.workload] if args.workload else list(REGISTRY)
    entries = [
        run_workload(REGISTRY[name](), ctx, repeat=repeat, console=console) for name in names
    ]
    results: dict[str, Any] = {
        "scale": scale.name,
        "db": args.db,
        "machine": machine_info(database=engine.describe(), repo=REPO),
        "dataset": dataset.as_json(),
        "workloads": entries,
        "seconds": round(time.perf_counter() - started, 1),
    }
    key = f"{scale.name}-{args.db}"
    out = (args.results_dir or REPO / "bench" / "results") / f"{key}.json"
    write_json(out, results)
    console.print(f"wrote {out}")
    if not args.workload:
        docs = args.docs or REPO / "docs" / "benchmarks.md"
        update_markdown(docs, key, markdown_section(results))
        console.print(f"updated {docs}")
    _print_summary(results)
    return 0 if all(entry["ok"] for entry in entries) else 1


def _print_summary(results: dict[str, Any]) -> None:
    table = Table(title=f"{results['scale']} · {results['db']}")
    for column in ("workload", "rows/s ours", "rows/s baseline", "ratio", "peak RSS MB", "checks"):
        table.add_column(column)
    for w in results["workloads"]:
        table.add_row(
            w["name"],
            f"{w['rows_per_s']:,.0f}",
            f"{w['baseline_rows_per_s']:,.0f}" if w["baseline_rows_per_s"] else "—",
            f"{w['ratio']:.2f}" if w["ratio"] else "—",
            f"{w['peak_rss_mb']:.0f}",
            "pass" if w["ok"] else "[red]FAIL[/]",
        )
    Console().print(table)
