"""Importing files of accounts, contacts or leads: creating a job from an upload, checking
its mapping, and running it (or a dry run) in batches that are set-based and restartable.

A batch of rows is one transaction holding a fixed number of statements whatever its size:
find the accounts, insert the missing ones, find the contacts (by the contact strategy),
insert the missing ones, update the matched ones, find or insert the leads, store the rejected
rows, and move the job's resume point (``rows_done``) past the batch. A crash loses at most
the batch in flight, which the next run does again from the same row. Records an import
creates carry an ``import_key`` (the file's hash and the row), unique in the database, so a
resumed run or a second run of the same file finds them instead of creating them twice.
"""

import contextlib
import datetime
import decimal
import functools
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import Actor
from leadcycle.bulk import (
    collect_young,
    collector_paused,
    execute,
    insert_rows,
    insert_rows_numbered,
    insert_tuples,
    placeholder,
    update_rows,
)
from leadcycle.changes import records_changed
from leadcycle.crm.models import Account, Channel, Contact, Lead
from leadcycle.crm.normalize import display_email, normalize_domain, normalize_email
from leadcycle.errors import DomainError
from leadcycle.imports import reader
from leadcycle.imports.fields import TARGETS, Target, from_template, suggest
from leadcycle.imports.models import Entity, ImportJob, ImportRowError, MappingTemplate
from leadcycle.intake.fields import normalized
from leadcycle.intake.models import IntakeSettings, MatchingStrategy

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_BATCH = 50_000
FIRST_ERRORS = 20
_EMAIL = EmailValidator()
OPTIONS = (
    "contact_strategy",
    "lead_strategy",
    "on_match",
    "create_missing",
    "react",
    "default_topic",
    "default_campaign",
    "batch_size",
)


def _user(by: Actor) -> Any:
    return by if by is not None and by.is_authenticated else None


def _error(name: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({name: ValidationError(message, code=code)})


# Creating and configuring a job ------------------------------------------------------------


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


@transaction.atomic
def import_create(
    *,
    by: Actor,
    entity: str,
    upload: IO[bytes],
    file_name: str,
    mapping: Mapping[str, str | None] | Sequence[str | None] | None = None,
    template: MappingTemplate | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """A job for an uploaded file: read enough of it to know its format, encoding, delimiter,
    headers and row count; map its columns (as given, from a template, or suggested from the
    headers); take the options. Nothing is imported yet. An unreadable file, an unknown entity
    or a mapping to an unknown field is a ``ValidationError`` and leaves nothing behind."""
    if entity not in Entity.values:
        raise _error(
            "entity",
            f"Unknown entity {entity!r}; one of: accounts, contacts, leads.",
            "unknown_entity",
        )
    name = Path(file_name or "upload").name[:255]
    job = ImportJob(entity=entity, file_name=name, created_by=_user(by))
    job.file_sha256 = _sha256(upload)
    upload.seek(0, 2)
    if upload.tell() > MAX_FILE_BYTES:
        raise _error("file", "At most 200 MB per file.", "file_too_large")
    upload.seek(0)
    suffix = Path(name).suffix.lower()[:6] if Path(name).suffix else ""
    job.file.save(f"{uuid.uuid4().hex}{suffix}", File(upload), save=False)
    try:
        info = reader.inspect(Path(job.file.path), name)
    except ValidationError:
        job.file.delete(save=False)
        raise
    job.file_format, job.encoding, job.delimiter = info.file_format, info.encoding, info.delimiter
    job.headers, job.rows_total = info.headers, info.rows_total
    if template is not None:
        if template.entity != entity:
            job.file.delete(save=False)
            raise _error("template", f"“{template}” maps {template.get_entity_display()} files.")
        job.mapping = from_template(info.headers, dict(template.columns))
    else:
        job.mapping = suggest(entity, info.headers)
    settings = IntakeSettings.objects.first()
    job.contact_strategy = settings.default_contact_strategy if settings else None
    try:
        if mapping is not None:
            job.mapping = _mapping_from(job, mapping)
        _options_apply(job, options or {})
    except ValidationError:
        job.file.delete(save=False)
        raise
    job.save()
    return job


def _mapping_from(
    job: ImportJob, mapping: Mapping[str, str | None] | Sequence[str | None]
) -> list[str | None]:
    """A mapping given by header (``{"E-mail": "contact.email"}``; unnamed columns keep their
    suggestion) or as one field (or null) per column; every field must be importable."""
    allowed = TARGETS[job.entity]
    if isinstance(mapping, Mapping):
        unknown = sorted(set(mapping) - set(job.headers))
        if unknown:
            raise _error(f"mapping.{unknown[0]}", "No column has this header.", "unknown_column")
        result = [
            mapping.get(h, job.mapping[i] if i < len(job.mapping) else None)
            for i, h in enumerate(job.headers)
        ]
    else:
        if len(mapping) != len(job.headers):
            raise _error(
                "mapping",
                f"Give one field (or null) for each of the {len(job.headers)} columns.",
                "wrong_length",
            )
        result = list(mapping)
    seen: dict[str, str] = {}
    for header, path in zip(job.headers, result, strict=True):
        if path in (None, ""):
            continue
        if path not in allowed:
            raise _error(
                f"mapping.{header}",
                f"Unknown field {path!r} for {job.entity}; one of: {', '.join(allowed)}.",
                "unknown_field",
            )
        if path in seen:
            raise _error(
                f"mapping.{header}",
                f"{path} is mapped from “{seen[path]}” already.",
                "mapped_twice",
            )
        seen[str(path)] = header
    return [p or None for p in result]


def _strategy(value: object, target: str, name: str) -> MatchingStrategy | None:
    if value in (None, "", "always"):
        return None
    if isinstance(value, MatchingStrategy):
        strategy = value
    else:
        query = Q(name=value) if not str(value).isdigit() else Q(pk=int(str(value)))
        found = MatchingStrategy.objects.filter(query).first()
        if found is None:
            raise _error(name, f"No matching strategy {value!r}.", "unknown_strategy")
        strategy = found
    if strategy.target != target:
        raise _error(
            name, f"“{strategy}” matches {strategy.target}s, not {target}s.", "wrong_target"
        )
    return strategy


def _options_apply(job: ImportJob, options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise _error(unknown[0], "Unknown option.", "unknown_field")
    if "contact_strategy" in options:
        job.contact_strategy = _strategy(options["contact_strategy"], "contact", "contact_strategy")
    if "lead_strategy" in options:
        job.lead_strategy = _strategy(options["lead_strategy"], "lead", "lead_strategy")
    if "on_match" in options:
        if options["on_match"] not in ImportJob.OnMatch.values:
            raise _error("on_match", "One of: update, skip, fill_empty.", "invalid_choice")
        job.on_match = options["on_match"]
    for flag in ("create_missing", "react"):
        if flag in options:
            if not isinstance(options[flag], bool):
                raise _error(flag, "true or false.")
            setattr(job, flag, options[flag])
    for text in ("default_topic", "default_campaign"):
        if text in options:
            value = " ".join(str(options[text] or "").split())
            if len(value) > 200:
                raise _error(text, "At most 200 characters.", "too_long")
            setattr(job, text, value)
    if "batch_size" in options:
        size = options["batch_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
            raise _error("batch_size", f"A number of rows from 1 to {MAX_BATCH}.")
        job.batch_size = size


@transaction.atomic
def import_update(
    *,
    job: ImportJob,
    by: Actor,
    mapping: Mapping[str, str | None] | Sequence[str | None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Change a job's mapping or options, while it has not started."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise DomainError("import_started", "The import has started; its mapping is fixed.")
    if mapping is not None:
        job.mapping = _mapping_from(job, mapping)
    _options_apply(job, options or {})
    job.dry_run = None  # a dry run of another mapping says nothing of this one
    job.save()
    return job


def mapping_problems(job: ImportJob) -> dict[str, str]:
    """What keeps the mapping from importing anything, by the field at fault."""
    mapped = {p for p in job.mapping if p}
    problems: dict[str, str] = {}
    if not mapped:
        return {"mapping": "Map at least one column to a field."}
    if job.entity == Entity.ACCOUNTS and "account.name" not in mapped:
        problems["mapping"] = "Map a column to Company name."
    if job.entity in (Entity.CONTACTS, Entity.LEADS):
        strategy = job.contact_strategy
        if strategy is not None:
            missing = [p for p in strategy.fields if p not in mapped]
            if missing:
                problems["contact_strategy"] = (
                    f"“{strategy}” compares {', '.join(missing)}: map a column to "
                    f"{'it' if len(missing) == 1 else 'them'}, or choose another strategy."
                )
        if not any(p.startswith(("contact.", "account.")) for p in mapped):
            problems["mapping"] = "Map the person's (or company's) fields: email, name…"
    if job.entity == Entity.LEADS:
        if "lead.topic" not in mapped and not job.default_topic:
            problems["default_topic"] = "Map a column to Lead topic, or give a default topic."
        strategy = job.lead_strategy
        if strategy is not None:
            given = {"lead.origin_ref", "lead.source_channel"}
            missing = [p for p in strategy.fields if p not in mapped and p not in given]
            if missing:
                problems["lead_strategy"] = (
                    f"“{strategy}” compares {', '.join(missing)}: map a column to "
                    f"{'it' if len(missing) == 1 else 'them'}, or always create leads."
                )
    return problems


def _startable(job: ImportJob) -> None:
    problems = mapping_problems(job)
    if problems:
        raise ValidationError(
            {
                name: ValidationError(message, code="incomplete_mapping")
                for name, message in problems.items()
            }
        )


@transaction.atomic
def import_start(
    *, job: ImportJob, by: Actor, dry_run: bool = False, enqueue: bool = True
) -> ImportJob:
    """Queue the import (or a dry run) for the worker; ``enqueue=False`` when the caller runs
    it itself (the CLI, with its progress bar)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise DomainError("import_started", "The import has started already.")
    _startable(job)
    if dry_run:
        job.dry_run = {"running": True}
        job.save(update_fields=["dry_run"])
    else:
        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
    if enqueue:
        _enqueue(job.pk, dry_run)
    return job


@transaction.atomic
def import_discard(*, job: ImportJob, by: Actor) -> None:
    """Delete a job that never started, and its file."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise DomainError("import_started", "A started import is kept as a record.")
    job.file.delete(save=False)
    job.delete()


@transaction.atomic
def import_resume(*, job: ImportJob, by: Actor, enqueue: bool = True) -> ImportJob:
    """Run a job again from its resume point: after a crash, a failure or a cancel."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status in (ImportJob.Status.DRAFT, ImportJob.Status.DONE):
        raise DomainError("import_not_resumable", "Only a started, unfinished import resumes.")
    job.status = ImportJob.Status.QUEUED
    job.problem = ""
    job.save(update_fields=["status", "problem"])
    if enqueue:
        _enqueue(job.pk, False)
    return job


@transaction.atomic
def import_cancel(*, job: ImportJob, by: Actor) -> ImportJob:
    """Stop the import after the batch in flight; what was imported stays."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status == ImportJob.Status.QUEUED:
        job.status = ImportJob.Status.CANCELLED
        job.finished_at = timezone.now()
    elif job.status == ImportJob.Status.RUNNING:
        job.status = ImportJob.Status.CANCELLING
    else:
        raise DomainError("import_not_running", "Only a queued or running import cancels.")
    job.save(update_fields=["status", "finished_at"])
    return job


def _enqueue(job_id: int, dry_run: bool) -> None:
    from leadcycle.imports.tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(job_id, dry_run))


@transaction.atomic
def mapping_template_save(
    *, by: Actor, name: str, entity: str, columns: Mapping[str, str]
) -> MappingTemplate:
    """Save (or replace) a named mapping for files of one entity."""
    name = " ".join(str(name or "").split())
    if not name or len(name) > 100:
        raise _error("name", "Name the mapping (at most 100 characters).", "required")
    if entity not in Entity.values:
        raise _error("entity", "One of: accounts, contacts, leads.", "unknown_entity")
    allowed = TARGETS[entity]
    clean: dict[str, str] = {}
    for header, path in columns.items():
        if path in (None, ""):
            continue
        if path not in allowed:
            raise _error(
                f"columns.{header}", f"Unknown field {path!r} for {entity}.", "unknown_field"
            )
        clean[str(header)] = str(path)
    template, _ = MappingTemplate.objects.update_or_create(
        entity=entity,
        name=name,
        defaults={"columns": clean, "created_by": _user(by)},
    )
    return template


def job_template_save(*, job: ImportJob, by: Actor, name: str) -> MappingTemplate:
    columns = {h: p for h, p in zip(job.headers, job.mapping, strict=False) if p}
    return mapping_template_save(by=by, name=name, entity=job.entity, columns=columns)


# Cleaning rows ---------------------------------------------------------------------------


# Django's own email patterns, compiled here once (the validator's are lazy objects, slow to
# reach a million times).
_USER_RE = re.compile(_EMAIL.user_regex.pattern, _EMAIL.user_regex.flags)
_DOMAIN_RE = re.compile(_EMAIL.domain_regex.pattern, _EMAIL.domain_regex.flags)


def _email_valid(value: str) -> bool:
    """Django's email validation (what a contact's email field runs): the common case by its
    patterns directly, anything else (IP literals, international domains) by the validator."""
    user, at, domain = value.rpartition("@")
    if at and len(value) <= 320 and _USER_RE.match(user) and _DOMAIN_RE.match(domain):
        return True
    try:
        _EMAIL(value)
    except ValidationError:
        return False
    return True


@functools.lru_cache(maxsize=65536)
def _domain(value: str) -> str:
    return normalize_domain(value)


class RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


_TRUE = {"1", "true", "yes", "y", "x", "ja", "oui", "si"}
_FALSE = {"0", "false", "no", "n", "", "nej", "non"}


def _converter(target: Target) -> Callable[[str], Any]:
    if target.kind == "email":

        def email(text: str) -> Any:
            value = display_email(text)
            if value and not _email_valid(value):
                raise ValueError(f"{text!r} is not an email address.")
            return value

        return email
    if target.kind == "choice":
        by_value = {v: v for v, _ in target.choices}
        by_value.update({label.casefold(): v for v, label in target.choices})
        by_value.update({v.replace("_", " "): v for v, _ in target.choices})

        def choice(text: str) -> Any:
            if not text:
                return None
            found = by_value.get(text.casefold())
            if found is None:
                raise ValueError(
                    f"{text!r} is not one of: {', '.join(v for v, _ in target.choices)}."
                )
            return found

        return choice
    if target.kind == "boolean":

        def boolean(text: str) -> Any:
            key = text.casefold()
            if key in _TRUE:
                return True
            if key in _FALSE:
                return None if not key else False
            raise ValueError(f"{text!r} is not yes or no.")

        return boolean
    if target.kind == "integer":

        def integer(text: str) -> Any:
            if not text:
                return None
            try:
                number = int(decimal.Decimal(text.replace(" ", "").replace(",", "")))
            except (decimal.InvalidOperation, ValueError):
                raise ValueError(f"{text!r} is not a whole number.") from None
            if number < 0 or number > 2_147_483_647:
                raise ValueError(f"{text!r} is out of range.")
            return number

        return integer
    if target.kind == "decimal":

        def money(text: str) -> Any:
            if not text:
                return None
            try:
                number = decimal.Decimal(text.replace(" ", "").replace(",", ""))
            except decimal.InvalidOperation:
                raise ValueError(f"{text!r} is not a number.") from None
            if not number.is_finite() or number < 0 or number >= 10**14:
                raise ValueError(f"{text!r} is out of range.")
            return number.quantize(decimal.Decimal("0.01"))

        return money

    limit = target.max_length

    def text_value(text: str) -> Any:
        if len(text) > limit:
            raise ValueError(f"Longer than {limit} characters.")
        return text

    return text_value


@dataclass(slots=True)
class CleanRow:
    number: int
    cells: list[str]
    values: dict[str, Any]  # path → value, only non-empty mapped cells
    contact_id: int | None = None
    account_id: int | None = None
    outcome: str = ""
    outcome_id: int | None = None  # the lead a leads row created or matched
    email: str | None = None  # normalised
    account_key: tuple[str, str] = ("", "")  # web domain, upper-case name


@dataclass
class Batch:
    rows: list[CleanRow] = field(default_factory=list)
    errors: list[tuple[int, str, str, list[str]]] = field(default_factory=list)


class Cleaner:
    """Turns the file's rows into field values, rejecting rows with a reason."""

    def __init__(self, job: ImportJob) -> None:
        targets = TARGETS[job.entity]
        # (column, header, field, converter or None for plain text, its length limit)
        self.columns = [
            (
                index,
                job.headers[index],
                path,
                None if targets[path].kind == "text" else _converter(targets[path]),
                targets[path].max_length,
            )
            for index, path in enumerate(job.mapping)
            if path
        ]
        self.width = max((index + 1 for index, *_ in self.columns), default=0)
        self.accounts = job.entity == Entity.ACCOUNTS
        self.leads = job.entity == Entity.LEADS
        self.default_topic = job.default_topic
        self.default_campaign = job.default_campaign
        # The fields that say who (or which company) a row is about.
        self.identity = [
            path
            for _, _, path, _, _ in self.columns
            if path.startswith(("contact.", "account."))
            and path not in ("contact.role", "contact.consent", "contact.marketing_only")
        ]

    def clean(self, rows: Iterable[tuple[int, list[str]]]) -> Batch:
        batch = Batch()
        values_of = self._values
        append = batch.rows.append
        no_company = ("", "")
        for number, cells in rows:
            try:
                values = values_of(cells)
            except RowError as exc:
                batch.errors.append((number, exc.column, exc.reason, cells))
                continue
            typed = values.get("contact.email")
            domain = values.get("account.web_domain")
            name = values.get("account.name")
            # Positional: a keyword call costs a tenth of cleaning a row.
            append(
                CleanRow(
                    number,
                    cells,
                    values,
                    None,
                    None,
                    "",
                    None,
                    normalize_email(typed) if typed else None,
                    (_domain(domain) if domain else "", name.upper() if name else "")
                    if domain or name
                    else no_company,
                )
            )
        return batch

    def _values(self, cells: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if len(cells) < self.width:
            cells = [*cells, *[""] * (self.width - len(cells))]  # a short row: empty cells
        for index, header, path, convert, limit in self.columns:
            text = cells[index].strip()
            if not text:
                continue
            # Inner runs of spaces, tabs and line breaks become one space (a printable text
            # without two spaces in a row has none: one test for the common case).
            if ("  " in text or not text.isprintable()) and (
                "  " in text or "\t" in text or "\n" in text or "\r" in text
            ):
                text = " ".join(text.split())
            if convert is None:
                if len(text) > limit:
                    raise RowError(header, f"Longer than {limit} characters.")
                values[path] = text
                continue
            try:
                value = convert(text)
            except ValueError as exc:
                raise RowError(header, str(exc)) from None
            if value is not None and value != "":
                values[path] = value
        if self.accounts:
            if not values.get("account.name"):
                raise RowError(self._header("account.name"), "The company name is empty.")
            return values
        if self.leads:
            if "lead.topic" not in values:
                if not self.default_topic:
                    raise RowError(self._header("lead.topic"), "The lead topic is empty.")
                values["lead.topic"] = self.default_topic
            if self.default_campaign and "lead.campaign" not in values:
                values["lead.campaign"] = self.default_campaign
        for path in self.identity:
            if path in values:
                return values
        raise RowError("", "The row names no person and no company.")

    def _header(self, path: str) -> str:
        return next((h for _, h, p, _, _ in self.columns if p == path), "")


# Running ---------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    contacts_created: int = 0
    accounts_created: int = 0

    def add(self, other: "Counts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


Progress = Callable[[int, int], None]


def import_run(
    *, job_id: int, dry_run: bool = False, progress: Progress | None = None
) -> ImportJob:
    """Import the job's file from its resume point to the end, batch by batch (or, in a dry
    run, do every batch and roll each back, keeping only the counts and the first errors)."""
    job = ImportJob.objects.get(pk=job_id)
    if job.finished or (dry_run and job.status != ImportJob.Status.DRAFT):
        return job
    if not dry_run:
        updated = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        ).update(status=ImportJob.Status.RUNNING, started_at=job.started_at or timezone.now())
        if not updated:
            return job
        job.refresh_from_db()
    start = 0 if dry_run else job.rows_done
    cleaner = Cleaner(job)
    seen = file_seen(job)
    totals = Counts()
    first_errors: list[dict[str, Any]] = []
    try:
        with _bulk_log(), collector_paused():
            return _run_batches(job, start, cleaner, seen, dry_run, totals, first_errors, progress)
    except ValidationError as exc:
        return _fail(job, "; ".join(exc.messages), dry_run)
    except Exception as exc:
        _fail(job, f"{type(exc).__name__}: {exc}"[:500], dry_run)
        raise


@contextlib.contextmanager
def _bulk_log() -> Iterator[None]:
    """On SQLite, let the write-ahead log grow over a run instead of copying it back into
    the database after every batch: an import rewrites the same index pages batch after
    batch, and checkpointing them each time was a fifth of its time. Bounded (about 400 MB
    of log); the connection's setting is restored after, and the log checkpointed once."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_autocheckpoint = 100000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {before:d}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the log back to its size


def _run_batches(
    job: ImportJob,
    start: int,
    cleaner: Cleaner,
    seen: bool,
    dry_run: bool,
    totals: Counts,
    first_errors: list[dict[str, Any]],
    progress: Progress | None,
) -> ImportJob:
    for offset, rows in _batches(job, start):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Compiling these short statements costs more than running them.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if not dry_run and (
                locked.rows_done != offset or locked.status != ImportJob.Status.RUNNING
            ):
                # Cancelled, or another runner moved on: stop here.
                _finish_if_cancelling(locked)
                return ImportJob.objects.get(pk=job.pk)
            batch = cleaner.clean(rows)
            counts = _batch_import(locked, batch, dry_run=dry_run, seen=seen)
            if dry_run:
                transaction.set_rollback(True)
            else:
                ImportJob.objects.filter(pk=job.pk).update(
                    rows_done=F("rows_done") + len(rows),
                    **{name: F(name) + value for name, value in counts.as_dict().items()},
                )
        totals.add(counts)
        collect_young()
        if dry_run:
            first_errors += [
                {"row": n, "column": c, "reason": r}
                for n, c, r, _ in batch.errors[: FIRST_ERRORS - len(first_errors)]
            ]
        if progress:
            progress(offset + len(rows), job.rows_total)
    if dry_run:
        job.dry_run = {**totals.as_dict(), "errors": first_errors, "at": timezone.now().isoformat()}
        ImportJob.objects.filter(pk=job.pk).update(dry_run=job.dry_run)
        return job
    with transaction.atomic():
        done = ImportJob.objects.select_for_update().get(pk=job.pk)
        if done.status in (ImportJob.Status.RUNNING, ImportJob.Status.CANCELLING):
            done.status = ImportJob.Status.DONE
            done.finished_at = timezone.now()
            done.save(update_fields=["status", "finished_at"])
            AuditEntry.objects.create(
                actor=done.created_by,
                action=AuditEntry.Action.UPDATE,
                record_type="imports.importjob",
                record_id=done.pk,
                changes={
                    "file": done.file_name,
                    "entity": done.entity,
                    **{name: getattr(done, name) for name in Counts.__dataclass_fields__},
                },
            )
    return ImportJob.objects.get(pk=job.pk)


def file_seen(job: ImportJob) -> bool:
    """Whether records from this file exist already (an earlier run, or this job before it
    was interrupted): only then can a row's import key find one. A range on the unique
    index: ``import_key`` is ``<file hash prefix>:<row>``."""
    prefix = job.file_sha256[:16]
    bounds = {"import_key__gte": f"{prefix}:", "import_key__lt": f"{prefix};"}
    return Contact.objects.filter(**bounds).exists() or Lead.objects.filter(**bounds).exists()


def _finish_if_cancelling(job: ImportJob) -> None:
    if job.status == ImportJob.Status.CANCELLING:
        job.status = ImportJob.Status.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])


def _fail(job: ImportJob, message: str, dry_run: bool) -> ImportJob:
    if dry_run:
        ImportJob.objects.filter(pk=job.pk).update(dry_run={"problem": message})
    else:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, problem=message)
    return ImportJob.objects.get(pk=job.pk)


def _batches(job: ImportJob, start: int) -> Iterator[tuple[int, list[tuple[int, list[str]]]]]:
    """(offset, rows) from data row ``start`` on; rows are (line number, cells), the header
    being line 1 (for XLSX, the sheet's row)."""
    rows = reader.rows_of(Path(job.file.path), job.file_format, job.encoding, job.delimiter)
    next(rows, None)  # the header
    batch: list[tuple[int, list[str]]] = []
    offset = start
    for index, cells in enumerate(rows):
        if index < start:
            continue
        batch.append((index + 2, cells))
        if len(batch) >= job.batch_size:
            yield offset, batch
            offset += len(batch)
            batch = []
    if batch:
        yield offset, batch


def _batch_import(job: ImportJob, batch: Batch, *, dry_run: bool, seen: bool = True) -> Counts:
    counts = Counts(rejected=len(batch.errors))
    now = timezone.now()
    owner_id = job.created_by_id
    key_prefix = job.file_sha256[:16]
    rows = batch.rows
    if job.entity == Entity.ACCOUNTS:
        _accounts_import(job, rows, counts, now, owner_id)
    else:
        _accounts_link(job, rows, counts, now, owner_id)
        _contacts_import(job, rows, counts, now, owner_id, key_prefix, seen)
        if job.entity == Entity.LEADS:
            _leads_import(job, rows, counts, now, owner_id, key_prefix, seen)
    late_errors = [
        (r.number, "", r.outcome[len("rejected:") :], r.cells)
        for r in rows
        if r.outcome.startswith("rejected:")
    ]
    counts.rejected += len(late_errors)
    errors = batch.errors + late_errors
    if errors:
        insert_rows(
            ImportRowError,
            [
                {
                    "job_id": job.pk,
                    "row_number": number,
                    "column": column[:255],
                    "reason": reason[:500],
                    "values": cells,
                }
                for number, column, reason, cells in errors
            ],
            columns=("job_id", "row_number", "column", "reason", "values"),
            skip_conflicts_on=("job_id", "row_number"),
        )
    if job.react and not dry_run:
        records_changed(
            lead_ids=[r.outcome_id for r in rows if r.outcome_id]
            if job.entity == Entity.LEADS
            else (),
            contact_ids=[r.contact_id for r in rows if r.outcome == "updated"]
            if job.entity == Entity.CONTACTS
            else (),
            account_ids=[r.account_id for r in rows if r.outcome == "updated"]
            if job.entity == Entity.ACCOUNTS
            else (),
        )
    return counts


# Accounts --------------------------------------------------------------------------------

_ACCOUNT_COLUMNS = ("name", "web_domain", "industry", "employees", "annual_revenue", "country")


def _any(column: str, values: Iterable[str]) -> tuple[str, list[Any]]:
    """``column`` (text) among ``values``: on PostgreSQL ``IN (SELECT unnest(array))``, one
    parameter whatever the count, which the planner answers with index probes (``= ANY`` of
    thousands of values makes it scan the table); ``IN (…)`` on SQLite."""
    values = list(values)
    if not values:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        return f"{column} IN (SELECT unnest(%s::text[]))", [values]
    return f"{column} IN ({', '.join([placeholder()] * len(values))})", values


def _select(sql: str, params: list[Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``sql`` (placeholders from ``_any``) as dicts keyed by ``names``."""
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _oldest_accounts(
    column: str, values: set[str], fields: Sequence[str] = _ACCOUNT_COLUMNS
) -> list[dict[str, Any]]:
    """The oldest account for each of ``values`` of ``column`` (an indexed expression), with
    its ``fields`` (those an update needs, by default): one row per value, however many
    accounts share it."""
    if not values:
        return []
    where, params = _any(column, values)
    names = ["web_domain", *(c for c in fields if c != "web_domain")]  # the key, and the rest
    return _select(
        f"SELECT a.id, UPPER(a.name), {', '.join(f'a.{c}' for c in names)}"  # noqa: S608 - fixed names and placeholders
        f" FROM (SELECT MIN(id) AS id FROM crm_account WHERE {where} GROUP BY {column}) oldest"
        " JOIN crm_account a ON a.id = oldest.id",
        params,
        ("id", "name_upper", *names),
    )


def _accounts_found(
    rows: list[CleanRow], fields: Sequence[str] = _ACCOUNT_COLUMNS
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Existing accounts by web domain, and by upper-case name for the rows whose domain
    finds none (the oldest wins either way). Two queries, on the domain and the upper-case
    name indexes; a company name shared by many accounts costs one row, not all of them."""
    domains = {r.account_key[0] for r in rows if r.account_key[0]}
    by_domain = {a["web_domain"]: a for a in _oldest_accounts("web_domain", domains, fields)}
    names = {
        name for domain, name in (r.account_key for r in rows) if name and domain not in by_domain
    }
    by_name = {a["name_upper"]: a for a in _oldest_accounts("UPPER(name)", names, fields)}
    return by_domain, by_name


def _account_values(values: Mapping[str, Any]) -> dict[str, Any]:
    data = {c: values.get(f"account.{c}") for c in _ACCOUNT_COLUMNS}
    data["web_domain"] = normalize_domain(str(data["web_domain"] or ""))
    data["name"] = data["name"] or data["web_domain"]
    for text in ("industry", "country"):
        data[text] = data[text] or ""
    return data


def _changes(current: Mapping[str, Any], new: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """What ``new`` changes of a matched record: nothing to skip; in fill-empty mode only its
    empty fields; otherwise every given value that differs."""
    if mode == ImportJob.OnMatch.SKIP:
        return {}
    changed = {}
    for name, value in new.items():
        if value in (None, ""):
            continue
        old = current.get(name)
        if mode == ImportJob.OnMatch.FILL_EMPTY and old not in (None, ""):
            continue
        if old != value:
            changed[name] = value
    return changed


class _NewAccounts:
    """The accounts a batch will create, one per company: a row joins an earlier row's new
    account when they share the web domain, or the name (either may be missing)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._by_domain: dict[str, dict[str, Any]] = {}
        self._by_name: dict[str, dict[str, Any]] = {}

    def entry(
        self, domain: str, name: str, data: Mapping[str, Any], stamp: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The company's new account, and whether this row is its first."""
        found = self.find(domain, name)
        if found is None:
            return self.add(domain, name, data, stamp), True
        return found, False

    def find(self, domain: str, name: str) -> dict[str, Any] | None:
        found = (self._by_domain.get(domain) if domain else None) or (
            self._by_name.get(name) if name else None
        )
        if found is not None:
            self._remember(domain, name, found)
        return found

    def add(
        self, domain: str, name: str, data: Mapping[str, Any], stamp: Mapping[str, Any]
    ) -> dict[str, Any]:
        entry = {**data, **stamp, "_rows": []}
        self.entries.append(entry)
        self._remember(domain, name, entry)
        return entry

    def _remember(self, domain: str, name: str, entry: dict[str, Any]) -> None:
        if domain:
            self._by_domain.setdefault(domain, entry)
        if name:
            self._by_name.setdefault(name, entry)


def _accounts_import(
    job: ImportJob,
    rows: list[CleanRow],
    counts: Counts,
    now: datetime.datetime,
    owner_id: int | None,
) -> None:
    by_domain, by_name = _accounts_found(rows)
    new = _NewAccounts()
    stamp = {"owner_id": owner_id, "created_at": now, "updated_at": now}
    updates: dict[int, dict[str, Any]] = {}
    for row in rows:
        domain, name = row.account_key
        existing = (by_domain.get(domain) if domain else None) or by_name.get(name)
        data = _account_values(row.values)
        if existing is not None:
            row.account_id = existing["id"]
            revenue = existing["annual_revenue"]
            if revenue is not None and not isinstance(revenue, decimal.Decimal):
                existing["annual_revenue"] = decimal.Decimal(str(revenue))  # SQLite: a float
            changed = _changes({**existing, **updates.get(existing["id"], {})}, data, job.on_match)
            if changed:
                updates.setdefault(existing["id"], {}).update(changed)
            row.outcome = "updated" if changed else "unchanged"
            continue
        entry, fresh = new.entry(domain, name, data, stamp)
        entry["_rows"].append(row)
        row.outcome = "created" if fresh else "unchanged"
    created = insert_rows(
        Account,
        new.entries,
        columns=(*_ACCOUNT_COLUMNS, "owner_id", "created_at", "updated_at"),
        returning=("id",),
    )
    for (pk,), data in zip(created, new.entries, strict=True):
        for row in data["_rows"]:
            row.account_id = pk
    _update_changed(
        Account,
        updates,
        by_id={a["id"]: a for a in [*by_domain.values(), *by_name.values()]},
        columns=_ACCOUNT_COLUMNS,
        now=now,
    )
    for row in rows:
        setattr(counts, row.outcome, getattr(counts, row.outcome) + 1)
    counts.accounts_created += len(created)


def _update_changed(
    model: type[Any],
    updates: Mapping[int, Mapping[str, Any]],
    *,
    by_id: Mapping[int, Mapping[str, Any]],
    columns: Sequence[str],
    now: datetime.datetime,
) -> None:
    """One statement setting the changed columns (and ``updated_at``) of every updated record;
    columns a record does not change keep their current value."""
    if not updates:
        return
    touched = sorted({name for changed in updates.values() for name in changed})
    rows = []
    for pk, changed in updates.items():
        current = by_id[pk]
        rows.append(
            {"id": pk, **{c: changed.get(c, current.get(c)) for c in touched}, "updated_at": now}
        )
    update_rows(model, rows, columns=[*touched, "updated_at"])


def _accounts_link(
    job: ImportJob,
    rows: list[CleanRow],
    counts: Counts,
    now: datetime.datetime,
    owner_id: int | None,
) -> None:
    """The account each row of a contacts or leads file names: found by web domain, else by
    name, or (when the job creates what is missing) created."""
    if not any(k.startswith("account.") for r in rows for k in r.values):
        return
    by_domain, by_name = _accounts_found(rows, fields=())  # the ids are enough here
    new = _NewAccounts()
    stamp = {"owner_id": owner_id, "created_at": now, "updated_at": now}
    for row in rows:
        domain, name = row.account_key
        if not domain and not name:
            continue
        existing = (by_domain.get(domain) if domain else None) or by_name.get(name)
        if existing is not None:
            row.account_id = existing["id"]
        elif job.create_missing:
            entry = new.find(domain, name) or new.add(
                domain, name, _account_values(row.values), stamp
            )
            entry["_rows"].append(row)
    created = insert_rows(
        Account,
        new.entries,
        columns=(*_ACCOUNT_COLUMNS, "owner_id", "created_at", "updated_at"),
        returning=("id",),
    )
    for (pk,), data in zip(created, new.entries, strict=True):
        for row in data["_rows"]:
            row.account_id = pk
    counts.accounts_created += len(created)


# Contacts --------------------------------------------------------------------------------

_CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "job_title",
    "phone",
    "country",
    "role",
    "consent",
    "marketing_only",
)
_CONTACT_DB_FILTER: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "contact.email": ("email_normalized", lambda v: normalize_email(str(v))),
    "contact.first_name": ("first_lower", lambda v: str(v).lower()),
    "contact.last_name": ("last_lower", lambda v: str(v).lower()),
    "contact.country": ("country_lower", lambda v: str(v).lower()),
    "contact.phone": ("phone", str),
    "account.name": ("account_upper", lambda v: str(v).upper()),
}


def _strategy_key(strategy: MatchingStrategy, values: Mapping[str, Any]) -> str | None:
    parts = [normalized(path, values.get(path)) for path in strategy.fields]
    return "\x1f".join(parts) if all(parts) else None


_CONTACT_SQL = {
    "contact.email": "c.email_normalized",
    "contact.first_name": "LOWER(c.first_name)",
    "contact.last_name": "LOWER(c.last_name)",
    "contact.country": "LOWER(c.country)",
    "contact.phone": "c.phone",
    "account.name": "UPPER(a.name)",
}


def _contacts_found(
    strategy: MatchingStrategy | None,
    rows: list[CleanRow],
    import_keys: list[str],
    fields: Sequence[str] = _CONTACT_FIELDS,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Existing contacts by strategy key, by normalised email and by import key, with the
    ``fields`` an update needs (and those the strategy compares). One query: a generous
    filter in the database (each strategy field among the batch's values), the exact
    comparison on normalised values here."""
    if strategy is not None and list(strategy.fields) == ["contact.email"]:
        strategy = None  # the email lookup is the strategy
    parts = [
        _any("c.import_key", import_keys),
        _any("c.email_normalized", {r.email for r in rows if r.email}),
    ]
    if strategy is not None:
        each = [
            _any(
                _CONTACT_SQL[path],
                {_CONTACT_DB_FILTER[path][1](r.values[path]) for r in rows if r.values.get(path)},
            )
            for path in strategy.fields
        ]
        parts.append(
            (
                " AND ".join(sql for sql, _ in each),
                [p for _, params in each for p in params],
            )
        )
    if strategy is not None:
        fields = [
            *fields,
            *(p[len("contact.") :] for p in strategy.fields if p.startswith("contact.")),
        ]
    fields = [name for name in _CONTACT_FIELDS if name in fields]  # once each, in order
    company = strategy is not None and "account.name" in strategy.fields
    names = (
        "id",
        "account_id",
        "import_key",
        "email_normalized",
        *(["account__name"] if company else []),
        *fields,
    )
    columns = ", ".join(
        [
            "c.id",
            "c.account_id",
            "c.import_key",
            "c.email_normalized",
            *(["a.name"] if company else []),
            *(f"c.{n}" for n in fields),
        ]
    )
    # One SELECT per way of finding a contact, joined by UNION ALL: each uses its own index
    # (an OR of them makes SQLite scan the table; an IN over the union makes PostgreSQL do
    # so). No UNION and no ORDER BY: to merge or order by id, SQLite walked the whole table in
    # id order instead of probing the index, once per batch. A contact found two ways is one
    # contact, and the oldest wins a strategy key: both settled here.
    parts = [(sql, params) for sql, params in parts if params]
    if not parts:
        return {}, {}, {}
    joined = " FROM crm_contact c" + (
        " LEFT JOIN crm_account a ON a.id = c.account_id" if company else ""
    )
    selected = _select(
        " UNION ALL ".join(f"SELECT {columns}{joined} WHERE {sql}" for sql, _ in parts),
        [p for _, params in parts for p in params],
        names,
    )
    found = sorted({c["id"]: c for c in selected}.values(), key=itemgetter("id"))
    by_key: dict[str, dict[str, Any]] = {}
    by_email: dict[str, dict[str, Any]] = {}
    by_import: dict[str, dict[str, Any]] = {}
    for contact in found:
        if "marketing_only" in contact:
            contact["marketing_only"] = bool(contact["marketing_only"])
        if contact["email_normalized"]:
            by_email.setdefault(contact["email_normalized"], contact)
        if contact["import_key"]:
            by_import[contact["import_key"]] = contact
        if strategy is not None:
            values = {f"contact.{n}": contact[n] for n in fields}
            values["account.name"] = contact.get("account__name") or ""
            key = _strategy_key(strategy, values)
            if key is not None:
                by_key.setdefault(key, contact)
    return by_key, by_email, by_import


def _contacts_import(
    job: ImportJob,
    rows: list[CleanRow],
    counts: Counts,
    now: datetime.datetime,
    owner_id: int | None,
    key_prefix: str,
    seen: bool = True,
) -> None:
    strategy = job.contact_strategy
    # By email alone (the default strategy), the email lookup is the strategy.
    by_key_needed = strategy is not None and list(strategy.fields) != ["contact.email"]
    import_keys = [f"{key_prefix}:{r.number}" for r in rows]
    mapped = [(n, f"contact.{n}") for n in _CONTACT_FIELDS if f"contact.{n}" in job.mapping]
    on_match = job.on_match
    # Only a file imported before (or a resumed job) can have created these rows' contacts.
    by_key, by_email, by_import = _contacts_found(
        strategy, rows, import_keys if seen else [], [name for name, _ in mapped]
    )
    leads = job.entity == Entity.LEADS
    # A new contact's values, in ``mapped`` order: the row's, else the field's default.
    fill = [(path, _contact_default(name, leads)) for name, path in mapped]
    # New people by strategy key, email or import key: their values and the rows naming them.
    new: dict[str, tuple[tuple[Any, ...], list[CleanRow]]] = {}
    updates: dict[int, dict[str, Any]] = {}
    current: dict[int, dict[str, Any]] = {}
    for row, import_key in zip(rows, import_keys, strict=True):
        values = row.values
        email = row.email
        key = _strategy_key(strategy, values) if strategy and by_key_needed else None
        existing = by_import.get(import_key) or (by_key.get(key) if key else None)
        if existing is None and email:
            # Emails are unique: whatever the strategy, the email's owner is the person.
            existing = by_email.get(email)
        if existing is not None:
            row.contact_id = existing["id"]
            current[existing["id"]] = existing
            pending = updates.get(existing["id"])
            data = {name: values[path] for name, path in mapped if path in values}
            changed = _changes({**existing, **pending} if pending else existing, data, on_match)
            if changed.get("email"):
                if normalize_email(changed["email"]) == existing["email_normalized"]:
                    del changed["email"]  # the same address in other capitals: keep theirs
                else:
                    changed["email_normalized"] = normalize_email(changed["email"])
            if existing["account_id"] is None and row.account_id:
                changed["account_id"] = row.account_id
            if changed:
                updates.setdefault(existing["id"], {}).update(changed)
            if leads:
                row.account_id = existing["account_id"] or row.account_id
                row.outcome = "matched"  # the row's outcome is its lead's
            else:
                row.outcome = "updated" if changed else "unchanged"
            continue
        if leads and not job.create_missing:
            if row.account_id is None:
                row.outcome = (
                    "rejected:No contact or account matches, and creating missing contacts is off."
                )
            else:
                row.outcome = "matched"
            continue
        identity = key or email or import_key
        if identity in new:
            new[identity][1].append(row)
            row.outcome = "unchanged" if not leads else "matched"
            continue
        new[identity] = (
            (
                *[values.get(path, default) for path, default in fill],
                email,
                row.account_id,
                import_key,
            ),
            [row],
        )
        row.outcome = "created" if not leads else "matched"
    entries = list(new.values())
    columns = (*(name for name, _ in mapped), "email_normalized", "account_id", "import_key")
    email_at, key_at = len(mapped), len(mapped) + 2
    created = _inserted(
        Contact,
        sorted((own for own, _ in entries), key=lambda own: own[email_at] or ""),
        columns=columns,
        constants={
            **{
                name: _contact_default(name, leads)
                for name in _CONTACT_FIELDS
                if f"contact.{name}" not in job.mapping
            },
            "origin_channel": Channel.IMPORT,
            "owner_id": owner_id,
            "created_at": now,
            "updated_at": now,
        },
        skip_conflicts_on="*",
        seen=seen,
    )
    raced = [(own, named) for own, named in entries if own[key_at] not in created]
    if raced:
        # Someone created these people since the lookup (a concurrent import or form): link.
        emails = [own[email_at] for own, _ in raced if own[email_at]]
        theirs = dict(
            Contact.objects.filter(email_normalized__in=emails).values_list(
                "email_normalized", "id"
            )
        )
        for own, named in raced:
            pk = theirs.get(own[email_at])
            for row in named:
                row.contact_id = pk
                if row.outcome == "created":
                    row.outcome = "unchanged"
    for own, named in entries:
        pk = created.get(own[key_at])
        if pk is not None:
            for row in named:
                row.contact_id = pk
    counts.contacts_created += len(created)
    if updates:
        _contact_updates(updates, current, now)
    if not leads:
        for row in rows:
            if not row.outcome.startswith("rejected:"):
                setattr(counts, row.outcome, getattr(counts, row.outcome) + 1)


_CONTACT_DEFAULTS = {
    f.name: f.get_default() for f in Contact._meta.concrete_fields if f.name in _CONTACT_FIELDS
}


def _contact_default(name: str, leads: bool) -> Any:
    """A new contact's value for a field its row leaves empty. Contacts created for leads are
    marketing-only: not yet sales contacts."""
    if name == "marketing_only":
        return leads
    if name == "email":
        return ""
    return _CONTACT_DEFAULTS[name]


def _contact_updates(
    updates: Mapping[int, Mapping[str, Any]],
    current: Mapping[int, Mapping[str, Any]],
    now: datetime.datetime,
) -> None:
    touched = sorted({name for changed in updates.values() for name in changed})
    rows = [
        {"id": pk, **{c: changed.get(c, current[pk].get(c)) for c in touched}, "updated_at": now}
        for pk, changed in updates.items()
    ]
    update_rows(Contact, rows, columns=[*touched, "updated_at"])


# Leads -----------------------------------------------------------------------------------

# A new lead's own values; what every lead of a job shares is passed once (``constants``).
_LEAD_COLUMNS = (
    "topic",
    "campaign",
    "description",
    "parent_contact_id",
    "parent_account_id",
    "import_key",
)


def _leads_import(
    job: ImportJob,
    rows: list[CleanRow],
    counts: Counts,
    now: datetime.datetime,
    owner_id: int | None,
    key_prefix: str,
    seen: bool = True,
) -> None:
    strategy = job.lead_strategy
    found: dict[str, dict[str, Any]] = {}
    live = [r for r in rows if not r.outcome.startswith("rejected:")]
    contact_ids = {r.contact_id for r in live if r.contact_id}
    if strategy is not None and contact_ids:
        candidates = (
            Lead.objects.filter(parent_contact_id__in=contact_ids, status=Lead.Status.OPEN)
            .order_by("id")
            .values(
                "id",
                "topic",
                "campaign",
                "description",
                "origin_ref",
                "source_channel",
                "parent_contact__email",
                "parent_contact__first_name",
                "parent_contact__last_name",
                "parent_contact_id",
            )
        )
        for lead in candidates.iterator():
            values = {
                "lead.topic": lead["topic"],
                "lead.campaign": lead["campaign"],
                "lead.origin_ref": lead["origin_ref"],
                "lead.source_channel": lead["source_channel"],
                "contact.email": lead["parent_contact__email"],
                "contact.first_name": lead["parent_contact__first_name"],
                "contact.last_name": lead["parent_contact__last_name"],
            }
            key = _strategy_key(strategy, values)
            if key is not None:
                found.setdefault(f"{lead['parent_contact_id']}|{key}", dict(lead))
    new: list[tuple[Any, ...]] = []  # in _LEAD_COLUMNS order
    new_rows: list[CleanRow] = []
    updates: dict[int, dict[str, Any]] = {}
    current: dict[int, dict[str, Any]] = {}
    for row in live:
        values = row.values
        if strategy is not None:
            key = _strategy_key(
                strategy,
                {
                    **values,
                    "lead.origin_ref": job.origin_ref,
                    "lead.source_channel": Channel.IMPORT,
                },
            )
            existing = found.get(f"{row.contact_id}|{key}") if key and row.contact_id else None
            if existing is not None:
                data = {
                    "topic": values["lead.topic"],
                    "campaign": values.get("lead.campaign", ""),
                    "description": values.get("lead.description", ""),
                }
                current[existing["id"]] = existing
                changed = _changes(
                    {**existing, **updates.get(existing["id"], {})}, data, job.on_match
                )
                if changed:
                    updates.setdefault(existing["id"], {}).update(changed)
                row.outcome = "updated" if changed else "unchanged"
                row.outcome_id = existing["id"]
                continue
        new.append(
            (
                values["lead.topic"],
                values.get("lead.campaign", ""),
                values.get("lead.description", ""),
                row.contact_id,
                row.account_id,
                f"{key_prefix}:{row.number}",
            )
        )
        new_rows.append(row)
    inserted = _inserted(
        Lead,
        new,
        columns=_LEAD_COLUMNS,
        constants={
            "source_channel": Channel.IMPORT,
            "origin_ref": job.origin_ref,
            "status": Lead.Status.OPEN,
            "sales_ready": False,
            "telemarketing_ready": False,
            "owner_id": owner_id,
            "created_at": now,
            "updated_at": now,
        },
        skip_conflicts_on="import_key",
        seen=seen,
    )
    key_at = _LEAD_COLUMNS.index("import_key")
    for row, own in zip(new_rows, new, strict=True):
        pk = inserted.get(own[key_at])
        row.outcome = "created" if pk else "unchanged"  # unchanged: an earlier run's lead
        row.outcome_id = pk
    if updates:
        touched = sorted({name for changed in updates.values() for name in changed})
        update_rows(
            Lead,
            [
                {
                    "id": pk,
                    **{c: changed.get(c, current[pk].get(c)) for c in touched},
                    "updated_at": now,
                }
                for pk, changed in updates.items()
            ],
            columns=[*touched, "updated_at"],
        )
    for row in live:
        setattr(counts, row.outcome, getattr(counts, row.outcome) + 1)


def _inserted(
    model: type[Contact] | type[Lead],
    rows: list[tuple[Any, ...]],
    *,
    columns: Sequence[str],
    constants: Mapping[str, Any],
    skip_conflicts_on: str,
    seen: bool,
) -> dict[str, int]:
    """Insert new contacts or leads (tuples of ``columns``, one of them ``import_key``, each
    also taking the ``constants``); their ids by import key, without the rows a unique rule
    skipped. On SQLite a batch holds the write lock from its first lookup (``BEGIN
    IMMEDIATE``), and a file imported for the first time has no rows of its own yet: the
    insert then skips the conflict clause and ``RETURNING`` (``insert_rows_numbered``), and
    falls back to them in the rare batch where a row does conflict (two rows of one new
    person under another strategy, a second job of the same file)."""
    key_at = list(columns).index("import_key")
    if not seen and connection.vendor == "sqlite":
        try:
            with transaction.atomic():
                ids = insert_rows_numbered(model, rows, columns=columns, constants=constants)
            return {values[key_at]: pk for values, pk in zip(rows, ids, strict=True)}
        except IntegrityError:
            pass
    return {
        import_key: pk
        for pk, import_key in insert_tuples(
            model,
            rows,
            columns=columns,
            constants=constants,
            skip_conflicts_on=skip_conflicts_on,
            returning=("id", "import_key"),
        )
    }


def wait_for(job_id: int, *, timeout: float = 60.0) -> ImportJob:
    """Poll until a job has finished (for the CLI and tests that use a worker)."""
    deadline = time.monotonic() + timeout
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if job.finished or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def errors_csv_rows(job: ImportJob) -> Iterator[list[str]]:
    """The rejected rows as the file had them, plus a reason column: fix and re-import."""
    yield [*job.headers, "Row", "Reason"]
    for error in ImportRowError.objects.filter(job=job).order_by("row_number").iterator(2000):
        cells = list(error.values) + [""] * (len(job.headers) - len(error.values))
        where = f"{error.column}: " if error.column else ""
        yield [*cells[: len(job.headers)], str(error.row_number), f"{where}{error.reason}"]
