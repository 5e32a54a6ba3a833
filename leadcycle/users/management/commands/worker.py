"""``leadcycle worker``: run the background worker of the configured task backend."""

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background task worker (database queue by default, RQ when LEADCYCLE_TASKS=rq)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run queued tasks, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.LEADCYCLE_TASKS == "rq":
            extra = ["--burst"] if options["batch"] else []
            call_command(
                "rqworker", "default", "--job-class", "django_tasks_rq.backend.Job", *extra
            )
        elif settings.LEADCYCLE_TASKS == "immediate":
            self.stdout.write("Tasks run inline (LEADCYCLE_TASKS=immediate); no worker needed.")
        else:
            extra = ["--batch"] if options["batch"] else []
            # How often an idle worker looks for work: scores follow interactions within
            # about this much (LC-4 aims at under a second end to end).
            interval = os.environ.get("LEADCYCLE_WORKER_INTERVAL", "0.2")
            call_command(
                "db_worker", "--queue-name", "*", "--no-startup-delay", "--interval", interval,
                *extra,
            )  # fmt: skip
