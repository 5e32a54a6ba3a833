"""``leadcycle serve``: the web server and one background worker, started together.

Production-grade gunicorn unless DEBUG is on (then Django's autoreloading server). Static files
are collected into the data folder and served by WhiteNoise. Ctrl-C stops both.
"""

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the app (gunicorn) and run one background worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("LEADCYCLE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        leadcycle = [sys.executable, "-m", "leadcycle.cli"]
        if settings.DEBUG:
            web = [*leadcycle, "runserver", options["bind"]]
        else:
            web = [
                sys.executable,
                "-m",
                "gunicorn",
                "leadcycle.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ]
        procs = [subprocess.Popen(web)]  # noqa: S603 - fixed argv, no shell
        if not options["no_worker"] and settings.LEADCYCLE_TASKS != "immediate":
            procs.append(subprocess.Popen([*leadcycle, "worker"]))  # noqa: S603
        self.stdout.write(f"Leadcycle is serving on http://{options['bind']}/ (Ctrl-C to stop)")

        def stop(*_: object) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            # If either process dies, stop the other: a web server without its worker would
            # silently queue work forever.
            while all(proc.poll() is None for proc in procs):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    procs[0].wait(timeout=1)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
