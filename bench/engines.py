"""The database engines the harness runs on.

Each engine creates a private database (never the app's or the test suite's), loads generated
rows in bulk the way that engine loads fastest, and settles the database between measured runs
so that every run starts from the same physical state as far as the engine allows.
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

Row = tuple[Any, ...]

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/leadcycle_bench"
# The harness drops and re-creates its database on every run, so it refuses any name that
# does not say it is a benchmark database: a typo must not drop someone's data.
_BENCH_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]*bench[a-z0-9_]*$")


def _django_raw_connection() -> Any:
    """The DB-API connection under Django's default connection (sqlite3 or psycopg)."""
    from django.db import connection

    connection.ensure_connection()
    return connection.connection


class BulkWriter(ABC):
    """Appends generated rows to tables. The generator writes through nothing else."""

    timestamp_suffix: ClassVar[str] = ""
    """Appended to ``YYYY-MM-DD HH:MM:SS`` so the engine reads the text as UTC."""

    @abstractmethod
    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        """Append ``rows`` (tuples in ``columns`` order) to ``table``."""

    @abstractmethod
    def flush(self) -> None:
        """Make everything written so far durable (end of a generation chunk)."""


class Engine(ABC):
    """One database engine: where its benchmark database lives and how to load it."""

    name: ClassVar[str]
    foreign_key_violations: int | None = None
    """Rows breaking a foreign key after the last bulk load; ``None`` when not verified."""

    @abstractmethod
    def database_url(self) -> str:
        """The ``DATABASE_URL`` Django is given for this run."""

    @abstractmethod
    def recreate(self) -> None:
        """Drop the benchmark database and create it empty. Runs before Django is set up."""

    @abstractmethod
    def describe(self) -> dict[str, str]:
        """Engine name, version and the settings that matter for the numbers."""

    @abstractmethod
    @contextmanager
    def bulk_load(self, tables: Sequence[str]) -> Iterator[BulkWriter]:
        """Load ``tables``: secondary indexes and foreign-key checks are suspended while the
        writer is open and rebuilt (and verified) at the end."""

    @abstractmethod
    def settle(self, tables: Sequence[str]) -> None:
        """After bulk writes or deletes: reclaim dead rows, refresh statistics, flush logs, so
        the next measured run does not pay for the previous one."""


class SqliteEngine(Engine):
    """A fresh SQLite file per scale under the work folder, with the app's own PRAGMAs."""

    name = "sqlite"

    def __init__(self, *, path: Path, check_foreign_keys: bool) -> None:
        self.path = path
        self.check_foreign_keys = check_foreign_keys

    def database_url(self) -> str:
        return f"sqlite:///{self.path}"

    def recreate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def describe(self) -> dict[str, str]:
        raw = _django_raw_connection()
        return {
            "engine": "SQLite",
            "version": sqlite3.sqlite_version,
            "journal_mode": str(raw.execute("PRAGMA journal_mode").fetchone()[0]),
            "synchronous": str(raw.execute("PRAGMA synchronous").fetchone()[0]),
            "cache_size": str(raw.execute("PRAGMA cache_size").fetchone()[0]),
        }

    @contextmanager
    def bulk_load(self, tables: Sequence[str]) -> Iterator[BulkWriter]:
        from django.db import connection

        raw = _django_raw_connection()
        marks = ",".join("?" * len(tables))
        # Only explicit indexes have SQL; the ones SQLite makes for UNIQUE constraints stay,
        # which also keeps the generator honest about unique emails.
        indexes = raw.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks})",
            tuple(tables),
        ).fetchall()
        # A throwaway file: no journal, no fsync, no per-row FK lookups, and a page cache big
        # enough for the indexes that stay. Index builds sort in temporary files, not in
        # memory, so memory stays bounded at any scale.
        for pragma in (
            "foreign_keys = OFF",
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -262144",
        ):
            raw.execute(f"PRAGMA {pragma}")
        for name, _sql in indexes:
            raw.execute(f'DROP INDEX "{name}"')
        writer = _SqliteWriter(raw)
        yield writer
        writer.flush()
        # One sort per index is far cheaper than growing each index row by row.
        for _name, sql in indexes:
            raw.execute(sql)
        if self.check_foreign_keys:
            self.foreign_key_violations = len(raw.execute("PRAGMA foreign_key_check").fetchall())
        raw.execute("PRAGMA journal_mode = WAL")
        # The next connection gets the app's own settings (WAL, synchronous=NORMAL, foreign
        # keys on, default cache): the workloads must run the way the app runs.
        connection.close()

    def settle(self, tables: Sequence[str]) -> None:
        raw = _django_raw_connection()
        for table in tables:
            raw.execute(f'ANALYZE "{table}"')
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class _SqliteWriter(BulkWriter):
    """``executemany`` inside one transaction per generation chunk."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw
        self._in_transaction = False

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not self._in_transaction:
            self._raw.execute("BEGIN")
            self._in_transaction = True
        marks = ", ".join("?" * len(columns))
        names = ", ".join(f'"{c}"' for c in columns)
        self._raw.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # noqa: S608

    def flush(self) -> None:
        if self._in_transaction:
            self._raw.execute("COMMIT")
            self._in_transaction = False


class PostgresEngine(Engine):
    """A database dropped and re-created on every run, on the server the URL names."""

    name = "postgres"

    def __init__(self, *, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self.dbname = parts.path.lstrip("/")
        if not _BENCH_DB_NAME.match(self.dbname):
            raise ValueError(
                f"Refusing to use database {self.dbname!r}: the harness drops it on every run, "
                "so its name must contain 'bench'."
            )
        # Dropping a database needs a connection to another one on the same server.
        self.maintenance_url = urlunsplit(parts._replace(path="/postgres"))

    def database_url(self) -> str:
        return self.url

    def recreate(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.maintenance_url, autocommit=True) as conn:
            name = sql.Identifier(self.dbname)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def describe(self) -> dict[str, str]:
        raw = _django_raw_connection()
        info = {"engine": "PostgreSQL"}
        for setting in (
            "server_version",
            "shared_buffers",
            "work_mem",
            "maintenance_work_mem",
            "synchronous_commit",
            "max_wal_size",
        ):
            info[setting] = str(raw.execute(f"SHOW {setting}").fetchone()[0])
        info["version"] = info.pop("server_version")
        return info

    @contextmanager
    def bulk_load(self, tables: Sequence[str]) -> Iterator[BulkWriter]:
        raw = _django_raw_connection()
        # The PostgreSQL manual's recipe for populating a database: drop foreign keys and
        # secondary indexes, COPY, then rebuild; re-adding a foreign key validates it in one
        # set-based pass instead of one trigger call per row.
        foreign_keys = raw.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            (list(tables),),
        ).fetchall()
        indexes = raw.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c"
            "  WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))",
            (list(tables),),
        ).fetchall()
        raw.execute("SET synchronous_commit = off")
        raw.execute("SET maintenance_work_mem = '1GB'")
        for table, constraint, _definition in foreign_keys:
            raw.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
        for index, _definition in indexes:
            raw.execute(f"DROP INDEX {index}")
        yield _PostgresWriter(raw)
        for _index, definition in indexes:
            raw.execute(definition)
        for table, constraint, definition in foreign_keys:
            raw.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
        # Re-adding the constraints validated every row, or the load would have failed.
        self.foreign_key_violations = 0
        raw.execute("RESET synchronous_commit")
        raw.execute("RESET maintenance_work_mem")

    def settle(self, tables: Sequence[str]) -> None:
        raw = _django_raw_connection()
        for table in tables:
            raw.execute(f'VACUUM (ANALYZE) "{table}"')
        # Write dirty pages out now, not in the middle of the next measured run.
        raw.execute("CHECKPOINT")


class _PostgresWriter(BulkWriter):
    """One ``COPY … FROM STDIN`` per call; each is its own (asynchronously committed)
    transaction, so no transaction grows with the dataset."""

    timestamp_suffix = "+00"

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self._raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def flush(self) -> None:
        """Each COPY already committed."""
