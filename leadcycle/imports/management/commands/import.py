"""``leadcycle import FILE --entity leads [options]``: import a CSV or XLSX file here, with a
progress bar, and print the outcome. ``--dry-run`` counts without writing; ``--resume JOB``
continues a job that crashed, failed or was cancelled; ``--background`` leaves the work to
the worker. Exits non-zero, saying why, when the file, the entity or the mapping is wrong."""

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from leadcycle.errors import DomainError
from leadcycle.imports import services
from leadcycle.imports.models import Entity, ImportJob, MappingTemplate


def _problem(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(e.messages)}"
            for name, errors in exc.error_dict.items()
            for e in errors[:1]
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of accounts, contacts or leads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The CSV or XLSX file.")
        parser.add_argument("--entity", choices=Entity.values, help="What the rows are.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Map a column (e.g. 'E-mail=contact.email'; 'Notes=' leaves it out). "
            "Unnamed columns keep their suggested field.",
        )
        parser.add_argument("--template", help="A saved mapping, by name.")
        parser.add_argument("--save-template", metavar="NAME", help="Save the mapping used.")
        parser.add_argument("--contact-strategy", help="Contact matching strategy (name or id).")
        parser.add_argument(
            "--lead-strategy",
            default="always",
            help="Lead matching strategy (name or id); 'always' (default) creates every lead.",
        )
        parser.add_argument("--on-match", choices=ImportJob.OnMatch.values, default="update")
        parser.add_argument(
            "--no-create-missing",
            action="store_true",
            help="Leads: reject rows whose contact and account do not exist.",
        )
        parser.add_argument(
            "--no-react", action="store_true", help="Do not let scoring react to the rows."
        )
        parser.add_argument("--topic", default="", help="Leads: topic for rows without one.")
        parser.add_argument("--campaign", default="", help="Leads: campaign for rows without one.")
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument("--dry-run", action="store_true", help="Count, write nothing.")
        parser.add_argument("--resume", type=int, metavar="JOB", help="Continue this job.")
        parser.add_argument(
            "--background", action="store_true", help="Queue it for the worker and return."
        )
        parser.add_argument("--errors-csv", metavar="PATH", help="Write the rejected rows here.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            job = self._job(options)
            if options["dry_run"]:
                services.import_start(job=job, by=None, dry_run=True, enqueue=False)
                job = self._run(job, dry_run=True)
                counts = job.dry_run or {}
                services.import_discard(job=job, by=None)
                if "problem" in counts:
                    raise CommandError(f"The dry run failed: {counts['problem']}")
                self.stdout.write(
                    "Dry run, nothing written: {created:,} to create, {updated:,} to update, "
                    "{unchanged:,} unchanged, {rejected:,} rejected; {contacts_created:,} new "
                    "contacts and {accounts_created:,} new accounts.".format(**counts)
                )
                for error in counts.get("errors", [])[:10]:
                    where = f" ({error['column']})" if error["column"] else ""
                    self.stdout.write(f"  row {error['row']}{where}: {error['reason']}")
                return
            if options["resume"] is not None:
                services.import_resume(job=job, by=None, enqueue=options["background"])
            else:
                services.import_start(job=job, by=None, enqueue=options["background"])
            if options["background"]:
                self.stdout.write(f"Import {job.pk} queued for the worker.")
                return
            job = self._run(job, dry_run=False)
        except (ValidationError, DomainError) as exc:
            raise CommandError(_problem(exc)) from None
        self._report(job, options)

    def _job(self, options: dict[str, Any]) -> ImportJob:
        if options["resume"] is not None:
            job = ImportJob.objects.filter(pk=options["resume"]).first()
            if job is None:
                raise CommandError(f"No import {options['resume']}.")
            return job
        if not options["file"] or not options["entity"]:
            raise CommandError("Give the FILE and its --entity (accounts, contacts or leads).")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        template = None
        if options["template"]:
            template = MappingTemplate.objects.filter(
                name=options["template"], entity=options["entity"]
            ).first()
            if template is None:
                raise CommandError(f"No {options['entity']} mapping named {options['template']!r}.")
        mapping: dict[str, str | None] = {}
        for item in options["map"]:
            header, sep, field = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes HEADER=FIELD, not {item!r}.")
            mapping[header.strip()] = field.strip() or None
        settings_options: dict[str, Any] = {
            "lead_strategy": options["lead_strategy"],
            "on_match": options["on_match"],
            "create_missing": not options["no_create_missing"],
            "react": not options["no_react"],
            "default_topic": options["topic"],
            "default_campaign": options["campaign"],
            "batch_size": options["batch_size"],
        }
        if options["contact_strategy"]:
            settings_options["contact_strategy"] = options["contact_strategy"]
        with path.open("rb") as upload:
            job = services.import_create(
                by=None,
                entity=options["entity"],
                upload=upload,
                file_name=path.name,
                mapping=mapping or None,
                template=template,
                options=settings_options,
            )
        if options["save_template"]:
            services.job_template_save(job=job, by=None, name=options["save_template"])
        mapped = ", ".join(
            f"{header} → {field}"
            for header, field in zip(job.headers, job.mapping, strict=False)
            if field
        )
        self.stdout.write(f"Import {job.pk}: {job.rows_total:,} rows; {mapped}.")
        return job

    def _run(self, job: ImportJob, *, dry_run: bool) -> ImportJob:
        columns = (
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, disable=not sys.stderr.isatty(), transient=False) as bar:
            task = bar.add_task(
                "Dry run" if dry_run else "Importing",
                total=job.rows_total,
                completed=0 if dry_run else job.rows_done,
            )

            def moved(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                return services.import_run(job_id=job.pk, dry_run=dry_run, progress=moved)
            except Exception:  # marked failed by the service, with the reason
                return ImportJob.objects.get(pk=job.pk)

    def _report(self, job: ImportJob, options: dict[str, Any]) -> None:
        self.stdout.write(
            f"Import {job.pk} {job.get_status_display().lower()}: {job.rows_done:,} of "
            f"{job.rows_total:,} rows — {job.created:,} created, {job.updated:,} updated, "
            f"{job.unchanged:,} unchanged, {job.rejected:,} rejected; {job.contacts_created:,} "
            f"new contacts, {job.accounts_created:,} new accounts."
        )
        if job.rejected:
            if options["errors_csv"]:
                with open(options["errors_csv"], "w", newline="", encoding="utf-8") as out:
                    csv.writer(out).writerows(services.errors_csv_rows(job))
                self.stdout.write(f"Rejected rows and reasons: {options['errors_csv']}")
            else:
                self.stdout.write(
                    f"Rejected rows: --errors-csv PATH, or /imports/{job.pk}/errors.csv"
                )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"The import failed: {job.problem}. Resume: --resume {job.pk}")
