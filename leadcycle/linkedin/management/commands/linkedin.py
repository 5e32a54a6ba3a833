"""``leadcycle linkedin sync [--connector ID] [--trigger schedule|manual]``: pull new LinkedIn
form responses now (run it from cron for scheduled syncs) and print what each run did.

Exits non-zero with the reason when a sync fails (LinkedIn refused, could not be reached…)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.errors import DomainError
from leadcycle.linkedin.models import Connector, SyncRun
from leadcycle.linkedin.services import linkedin_sync


class Command(BaseCommand):
    help = "LinkedIn Lead Gen Forms: sync form responses."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="Pull new form responses of enabled connectors.")
        sync.add_argument("--connector", type=int, help="Only this connector (id).")
        sync.add_argument(
            "--trigger",
            choices=[SyncRun.Trigger.SCHEDULE, SyncRun.Trigger.MANUAL],
            default=SyncRun.Trigger.SCHEDULE,
            help="How the run is logged (default: schedule).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connectors = Connector.objects.order_by("id")
        if options["connector"] is not None:
            connectors = connectors.filter(pk=options["connector"])
        else:
            connectors = connectors.filter(enabled=True)
        chosen = list(connectors)
        if not chosen:
            raise CommandError(
                "No LinkedIn connector to sync: enable one on the LinkedIn page first."
            )
        failures = []
        for connector in chosen:
            try:
                run = linkedin_sync(connector=connector, trigger=options["trigger"])
            except DomainError as exc:
                failures.append(f"{connector}: {exc.message}")
                continue
            line = f"{connector}: sync #{run.pk} {run.status}: {run.summary()}."
            if run.status == SyncRun.Status.FAILED:
                failures.append(f"{connector}: sync #{run.pk} failed: {run.error}")
                self.stderr.write(line)
            else:
                self.stdout.write(line)
        if failures:
            raise CommandError("\n".join(failures))
