"""``leadcycle demo [--contacts N] [--seed S] [--if-empty]``: load the demo dataset and users."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.demo.dataset import DEMO_USERS, demo_dataset_create, demo_loaded, demo_password
from leadcycle.events.services import demo_events_create
from leadcycle.intake.services import demo_forms_create


class Command(BaseCommand):
    help = "Load a realistic, deterministic demo dataset and one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo users already exist (make run uses it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.LEADCYCLE_ALLOW_DEMO:
            raise CommandError(
                "Demo users have known passwords; set LEADCYCLE_ALLOW_DEMO=1 to load them."
            )
        if options["contacts"] < 1:
            raise CommandError("--contacts must be at least 1.")
        if options["if_empty"] and demo_loaded():
            self.stdout.write("Demo data already loaded.")
        elif demo_loaded():
            raise CommandError("Demo data is already loaded (use --if-empty to skip quietly).")
        else:
            summary = demo_dataset_create(contacts=options["contacts"], seed=options["seed"])
            forms = demo_forms_create()
            events = demo_events_create()
            # What is in the database now, the forms' and events' leads and contacts included.
            totals = {
                m.__name__: m.objects.count()
                for m in (Account, Contact, Lead, Opportunity, Interaction, Task)
            }
            self.stdout.write(
                f"Loaded {totals['Account']} accounts, {totals['Contact']} contacts, "
                f"{totals['Lead']} leads, {totals['Opportunity']} opportunities, "
                f"{totals['Interaction']} interactions, {totals['Task']} tasks, "
                f"{len(forms)} forms, {len(events)} events "
                f"(dataset seed {options['seed']}: {summary.contacts} contacts generated)."
            )
            for form in forms:
                self.stdout.write(f"  form: http://127.0.0.1:8000/f/{form.slug}")
            for event in events:
                self.stdout.write(f"  event: http://127.0.0.1:8000/e/{event.slug}/")
        self.stdout.write("Demo logins (username / password):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<13} {demo_password(username):<24} {role}")
