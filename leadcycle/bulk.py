"""Set-based inserts for bulk paths: one multi-row ``INSERT`` per chunk of rows.

Django's ``bulk_create`` cannot return the ids of rows inserted with ``ON CONFLICT DO
NOTHING``, and on SQLite it splits statements at 999 parameters although SQLite 3.32+ takes
32,766. ``insert_rows`` does both: it writes many rows per statement, skips rows that hit a
unique constraint when asked, and returns the columns asked for of the rows it inserted.

Table and column names come from model metadata, never from user input; values are passed as
parameters and prepared by each field (``get_db_prep_save``), so datetimes, JSON and decimals
are stored exactly as the ORM would store them.
"""

import contextlib
import gc
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from django.db import connection, models
from django.db.backends.utils import CursorWrapper

try:
    import psycopg
except ImportError:  # only PostgreSQL installations need it
    psycopg = None  # type: ignore[assignment]


def max_query_params() -> int:
    """How many parameters one statement may carry on the current database."""
    if connection.vendor == "sqlite":
        return 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    if connection.vendor == "postgresql":
        return 65_535
    return connection.features.max_query_params or 2_000


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """A column-backed field by name or attname (``owner_id``)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off over a bulk run, and run by hand, on the young objects
    only, by ``collect_young()`` between batches. A batch allocates hundreds of thousands of
    dicts and lists that live until its end, and the automatic collector scanned them again
    and again: a sixth of an import's time. Whatever else is running in the process gets its
    collector back when the run ends (reference counting frees all but cycles meanwhile)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_young() -> None:
    """Collect cycles among the objects allocated since the last collection (generations 0
    and 1): a batch's garbage, never the whole heap."""
    gc.collect(1)


def _driver_cursor() -> bool:
    """Whether ``execute`` runs statements on SQLite's own cursor: on SQLite, when nobody
    watches queries (a debug log, a test counting them, an execute wrapper)."""
    return (
        connection.vendor == "sqlite"
        and not connection.queries_logged
        and not connection.execute_wrappers
    )


def placeholder() -> str:
    """The parameter marker of a statement about to be run by ``execute``."""
    return "?" if _driver_cursor() else "%s"


def execute(cursor: CursorWrapper, sql: str, params: Sequence[Any]) -> None:
    """Run ``sql``, written with ``placeholder()``, on Django's ``cursor`` or, where
    ``_driver_cursor()`` says, on the driver's own: Django rewrites ``%s`` to ``?`` by
    scanning the whole statement, which for statements of thousands of rows was a tenth of a
    bulk import's time. Errors are Django's either way."""
    if _driver_cursor():
        with connection.wrap_database_errors:
            sqlite3.Cursor.execute(cursor.cursor, sql, params)
        return
    cursor.execute(sql, params)


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str],
    skip_conflicts_on: str | Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts keyed by field attname) into ``model``'s table.

    ``skip_conflicts_on`` names a uniquely-constrained column (or columns), or is ``"*"`` for
    any unique constraint: rows that would violate it are silently not inserted (``ON
    CONFLICT … DO NOTHING``), and are absent from the returned rows. ``returning`` lists
    attnames to return for every inserted row, in order.
    One statement per chunk; the chunk size keeps every statement under the parameter limit.
    """
    if not rows:
        return []
    opts = model._meta
    fields = [_concrete_field(model, name) for name in columns]
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(str(f.column)) for f in fields)
    row_sql = "(" + ", ".join([placeholder()] * len(fields)) + ")"
    conflict_sql = _conflict_sql(model, skip_conflicts_on)
    returning_sql = _returning_sql(model, returning)
    target = f"INSERT INTO {quote(opts.db_table)} ({column_sql}) "
    prepare = [_preparer(field) for field in fields]
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter per column, spread by unnest(): a statement of fixed size
            # whatever the row count, which PostgreSQL plans and psycopg sends cheaply.
            arrays = [
                [row.get(name) for row in rows]
                if prep is _same
                else [prep(row.get(name)) for row in rows]
                for name, prep in zip(columns, prepare, strict=True)
            ]
            casts = ", ".join(f"%b::{field.db_type(connection)}[]" for field in fields)
            sql = target + f"SELECT * FROM unnest({casts})" + conflict_sql + returning_sql  # noqa: S608
            # psycopg's own cursor binds parameters on the server; Django's client-side binding
            # would quote every array element in Python. Same connection, same transaction.
            with psycopg.Cursor(connection.connection) as raw:  # type: ignore[arg-type]
                raw.execute(sql, arrays)
                if returning:
                    inserted.extend(tuple(r) for r in raw.fetchall())
            return inserted
        per_statement = max(1, max_query_params() // len(fields))
        flatten = _flattener(columns, prepare)
        for chunk in _chunks(rows, per_statement):
            params = flatten(chunk)
            sql = target + "VALUES " + ", ".join([row_sql] * len(chunk))
            execute(cursor, sql + conflict_sql + returning_sql, params)
            if returning:
                inserted.extend(tuple(r) for r in cursor.fetchall())
    return inserted


def insert_tuples(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    *,
    columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
    skip_conflicts_on: str | Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``insert_rows`` for rows given as tuples of ``columns``' values, each row also taking
    the ``constants`` (what every row of a bulk insert shares: timestamps, owner, channel).
    On PostgreSQL the constants are bound once as plain parameters and only the varying
    columns travel as arrays (dumping arrays is most of psycopg's work in a bulk insert)."""
    if not rows:
        return []
    constants = constants or {}
    if connection.vendor != "postgresql":
        names = [*columns, *constants]
        shared = tuple(constants.values())
        return insert_rows(
            model,
            [dict(zip(names, (*row, *shared), strict=True)) for row in rows],
            columns=names,
            skip_conflicts_on=skip_conflicts_on,
            returning=returning,
        )
    fields = [_concrete_field(model, name) for name in columns]
    fixed = [_concrete_field(model, name) for name in constants]
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(str(f.column)) for f in [*fields, *fixed])
    prepare = [_preparer(field) for field in fields]
    arrays = [
        list(values) if prep is _same else [prep(v) for v in values]
        for values, prep in zip(zip(*rows, strict=True), prepare, strict=True)
    ]
    bound = [
        _preparer(field)(value) for field, value in zip(fixed, constants.values(), strict=True)
    ]
    casts = ", ".join(f"%b::{field.db_type(connection)}[]" for field in fields)
    scalars = "".join(f", %b::{field.db_type(connection)}" for field in fixed)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({column_sql}) "  # noqa: S608 - names from the model
        f"SELECT v.*{scalars} FROM unnest({casts}) v"
        + _conflict_sql(model, skip_conflicts_on)
        + _returning_sql(model, returning)
    )
    with psycopg.Cursor(connection.connection) as raw:  # type: ignore[arg-type]
        raw.execute(sql, [*bound, *arrays])  # in the order the statement names them
        return [tuple(r) for r in raw.fetchall()] if returning else []


def _conflict_sql(model: type[models.Model], skip_conflicts_on: str | Sequence[str] | None) -> str:
    if skip_conflicts_on == "*":
        return " ON CONFLICT DO NOTHING"  # whichever unique constraint a row hits
    if not skip_conflicts_on:
        return ""
    names = [skip_conflicts_on] if isinstance(skip_conflicts_on, str) else skip_conflicts_on
    quote = connection.ops.quote_name
    targets = ", ".join(quote(str(_concrete_field(model, n).column)) for n in names)
    return f" ON CONFLICT ({targets}) DO NOTHING"


def _returning_sql(model: type[models.Model], returning: Sequence[str]) -> str:
    if not returning:
        return ""
    quote = connection.ops.quote_name
    return " RETURNING " + ", ".join(
        quote(str(_concrete_field(model, r).column)) for r in returning
    )


def insert_rows_numbered(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    *,
    columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> list[int]:
    """SQLite: insert ``rows`` (tuples of ``columns``' values, each row also taking the
    ``constants``) without conflict handling (a unique violation raises ``IntegrityError``:
    run it in a savepoint and fall back), and return the new ids in the rows' order.

    A multi-row ``INSERT`` on a table with ``AUTOINCREMENT`` ids numbers its rows one after
    another under the write lock, ending at the cursor's ``lastrowid``: the ids come without
    a ``RETURNING`` clause, which cost SQLite a third of the time of a leads import's insert.
    Rows as tuples, with what every row shares prepared once, spare the caller a dict per
    row and this function a lookup per value."""
    assert connection.vendor == "sqlite", "SQLite numbers a statement's rows in order"
    if not rows:
        return []
    constants = constants or {}
    names = [*columns, *constants]
    fields = [_concrete_field(model, name) for name in names]
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(str(f.column)) for f in fields)
    target = f"INSERT INTO {quote(model._meta.db_table)} ({column_sql}) VALUES "  # noqa: S608 - names from the model
    row_sql = "(" + ", ".join([placeholder()] * len(fields)) + ")"
    shared = tuple(
        _preparer(field)(value)
        for field, value in zip(fields[len(columns) :], constants.values(), strict=True)
    )
    special = [
        (i, prep)
        for i, prep in enumerate(_preparer(field) for field in fields[: len(columns)])
        if prep is not _same
    ]
    ids: list[int] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, max(1, max_query_params() // len(fields))):
            params: list[Any] = []
            extend = params.extend
            for row in chunk:
                if special:
                    row = list(row)
                    for i, prep in special:
                        row[i] = prep(row[i])
                extend(row)
                extend(shared)
            execute(cursor, target + ", ".join([row_sql] * len(chunk)), params)
            last = int(cursor.cursor.lastrowid)
            ids.extend(range(last - len(chunk) + 1, last + 1))
    return ids


_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _same(value: Any) -> Any:
    return value


def _flattener(
    columns: Sequence[str], prepare: Sequence[Any]
) -> Callable[[Sequence[Mapping[str, Any]]], list[Any]]:
    """The parameters of a multi-row ``VALUES`` list, row after row: values fetched with one
    ``itemgetter`` per row (rows missing a column fall back to ``None``), prepared where the
    field needs it."""
    getter = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    special = [(i, prep) for i, prep in enumerate(prepare) if prep is not _same]

    def flatten(rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        params: list[Any] = []
        extend = params.extend
        for row in rows:
            try:
                values = getter(row)
            except KeyError:
                values = tuple(row.get(name) for name in columns)
            if special:
                values = list(values)
                for i, prep in special:
                    values[i] = prep(values[i])
            extend(values)
        return params

    return flatten


def _preparer(field: Any) -> Any:
    """How a value of ``field`` is turned into a query parameter: untouched for plain text,
    numbers, booleans and ids (the driver adapts them), by the field otherwise."""
    if isinstance(field, _PLAIN) and not isinstance(field, models.JSONField):
        return _same
    if isinstance(field, models.DateTimeField):
        # Bulk rows share one timestamp: prepare it once.
        last: list[Any] = [object(), None]

        def prepare_datetime(value: Any) -> Any:
            if value is not last[0]:
                last[:] = [value, field.get_db_prep_save(value, connection)]
            return last[1]

        return prepare_datetime
    return lambda value: field.get_db_prep_save(value, connection)


def update_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str],
    keep_existing: Sequence[str] = (),
    only_where_null: str = "",
) -> int:
    """Set ``columns`` of many rows at once, each row naming its record by ``id``: one
    ``UPDATE … FROM`` a list of values per chunk (PostgreSQL: one statement, arrays spread by
    ``unnest``; SQLite 3.33+: a ``VALUES`` list, chunked under the parameter limit). Rows set
    every column given; the caller puts the record's current value where nothing changes.
    ``keep_existing``: columns left as they are where they hold a value; ``only_where_null``: a
    column that must still be empty for the row to change (someone may have filled it)."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    quote = connection.ops.quote_name
    fields = [_concrete_field(model, name) for name in columns]
    pk = _concrete_field(model, "id")
    names = ["id", *columns]
    prepare = [_preparer(pk), *(_preparer(f) for f in fields)]
    assignments = ", ".join(
        f"{quote(str(f.column))} = "
        + (
            f"COALESCE({table}.{quote(str(f.column))}, v.{quote(str(f.column))})"
            if f.attname in keep_existing
            else f"v.{quote(str(f.column))}"
        )
        for f in fields
    )
    guard = (
        f" AND {table}.{quote(str(_concrete_field(model, only_where_null).column))} IS NULL"
        if only_where_null
        else ""
    )
    value_columns = ", ".join(quote(str(f.column)) for f in [pk, *fields])
    updated = 0
    if connection.vendor == "postgresql":
        arrays = [
            [prep(row.get(n)) for row in rows] for n, prep in zip(names, prepare, strict=True)
        ]
        casts = ", ".join(f"%b::{f.db_type(connection)}[]" for f in [pk, *fields])
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({casts}) AS v({value_columns})"  # noqa: S608 - names from model metadata
            f" WHERE {table}.{quote(str(pk.column))} = v.{quote(str(pk.column))}{guard}"
        )
        with psycopg.Cursor(connection.connection) as raw:  # type: ignore[arg-type]
            raw.execute(sql, arrays)
            return int(raw.rowcount)
    row_sql = "(" + ", ".join([placeholder()] * len(names)) + ")"
    per_statement = max(1, max_query_params() // len(names))
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            params = [
                prep(row.get(n)) for row in chunk for n, prep in zip(names, prepare, strict=True)
            ]
            sql = (
                f"WITH v({value_columns}) AS (VALUES {', '.join([row_sql] * len(chunk))})"  # noqa: S608 - names from model metadata
                f" UPDATE {table} SET {assignments} FROM v"
                f" WHERE {table}.{quote(str(pk.column))} = v.{quote(str(pk.column))}{guard}"
            )
            execute(cursor, sql, params)
            updated += cursor.rowcount
    return updated
