"""The worker is killed (SIGKILL) in the middle of an import; after the import is resumed
it ends exactly as one clean run would: every row once, no duplicate, nothing missing — and a
second run of the same file adds nothing. Real processes (``leadcycle worker``, ``leadcycle
import``) on a database of their own: SQLite, or PostgreSQL when the suite runs on it."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROWS = 40_000
BATCH = 500


def _leads_file(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["E-mail", "First Name", "Company", "Website", "Topic"])
        for i in range(ROWS):
            person = i % (ROWS // 2)  # every person twice: the second row finds the first's contact
            writer.writerow(
                [
                    f" Person{person}@Example.com",
                    f"P{person}",
                    f"Company {person % 500}",
                    f"co{person % 500}.example" if person % 3 else "",
                    f"Topic {i}",
                ]
            )


class Database:
    """A database for the child processes: a fresh SQLite file, or a fresh PostgreSQL database
    next to the suite's."""

    def __init__(self, tmp: Path) -> None:
        suite = os.environ.get("DATABASE_URL", "")
        self.postgres = suite.startswith("postgres")
        if self.postgres:
            import psycopg

            self.base = suite.rsplit("/", 1)[0]
            self.url = f"{self.base}/leadcycle_kill_test"
            with psycopg.connect(f"{self.base}/postgres", autocommit=True) as admin:
                admin.execute("DROP DATABASE IF EXISTS leadcycle_kill_test WITH (FORCE)")
                admin.execute("CREATE DATABASE leadcycle_kill_test")
        else:
            self.path = tmp / "kill.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def one(self, sql: str) -> tuple:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchone()
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchone()

    def drop(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(f"{self.base}/postgres", autocommit=True) as admin:
                admin.execute("DROP DATABASE IF EXISTS leadcycle_kill_test WITH (FORCE)")


@pytest.fixture
def database(tmp_path):
    db = Database(tmp_path)
    yield db
    db.drop()


def _env(tmp: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        DATABASE_URL=url,
        LEADCYCLE_DATA_DIR=str(tmp / "data"),
        LEADCYCLE_TASKS="db",
        DJANGO_SETTINGS_MODULE="leadcycle.settings",
        SECRET_KEY="kill-test-" + "x" * 40,
        LEADCYCLE_WORKER_INTERVAL="0.1",
    )
    return env


def _leadcycle(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "-m", "leadcycle.cli", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _worker(env):
    return subprocess.Popen(
        [sys.executable, "-m", "leadcycle.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _state(db):
    return {
        "leads": db.one("SELECT COUNT(*) FROM crm_lead")[0],
        "distinct_leads": db.one("SELECT COUNT(DISTINCT topic) FROM crm_lead")[0],
        "contacts": db.one("SELECT COUNT(*) FROM crm_contact")[0],
        "accounts": db.one("SELECT COUNT(*) FROM crm_account")[0],
        "orphans": db.one("SELECT COUNT(*) FROM crm_lead WHERE parent_contact_id IS NULL")[0],
    }


def test_killing_the_worker_mid_import_and_resuming_ends_as_one_clean_run(tmp_path, database):
    env = _env(tmp_path, database.url)
    _leadcycle(env, "migrate", "-v0")
    source = tmp_path / "leads.csv"
    _leads_file(source)
    # Given an import running in the worker
    queued = _leadcycle(
        env, "import", str(source), "--entity", "leads", "--batch-size", str(BATCH), "--background"
    )
    assert "queued for the worker" in queued.stdout
    worker = _worker(env)
    try:
        # When the worker is killed once some batches have committed
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline:
            done = database.one("SELECT rows_done FROM imports_importjob")[0]
            if done >= 4 * BATCH:
                break
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at, status = database.one("SELECT rows_done, status FROM imports_importjob")
    assert 0 < killed_at < ROWS and status == "running", (killed_at, status)
    assert killed_at % BATCH == 0  # whole batches only: the one in flight was rolled back
    # And the import is resumed, in a new worker
    _leadcycle(env, "import", "--resume", "1", "--background")
    worker = _worker(env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = database.one("SELECT status FROM imports_importjob")[0]
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
    finally:
        worker.kill()
        worker.wait(timeout=30)
    # Then every row was imported once: one lead per row, one contact per person, one
    # account per company
    row = database.one("SELECT status, rows_done, created, rejected FROM imports_importjob")
    assert row == ("done", ROWS, ROWS, 0)
    assert _state(database) == {
        "leads": ROWS,
        "distinct_leads": ROWS,
        "contacts": ROWS // 2,
        "accounts": 500,
        "orphans": 0,
    }
    # And running the same file again creates nothing
    again = _leadcycle(env, "import", str(source), "--entity", "leads", "--batch-size", "5000")
    assert "0 created" in again.stdout and f"{ROWS:,} unchanged" in again.stdout
    assert _state(database)["leads"] == ROWS
