"""``leadcycle workflows list | tick | apply ID | on ID [--existing] | off ID``.

``tick`` (from cron, every few minutes) runs the schedule workflows whose period has passed
and sends the webhook retries that are due. ``apply`` runs a workflow that is on for every
record its conditions hold for now. Exits non-zero with the reason on an unknown workflow."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.errors import DomainError
from leadcycle.workflows.dispatch import existing_apply, schedules_run
from leadcycle.workflows.models import Workflow
from leadcycle.workflows.services import workflow_disable, workflow_enable
from leadcycle.workflows.webhooks import webhooks_deliver_due


class Command(BaseCommand):
    help = "Workflows: list, switch on or off, apply to existing records, run the schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every workflow, on or off.")
        sub.add_parser("tick", help="Run due schedules and webhook retries.")
        for name, text in (("apply", "Run for existing records now."), ("on", "Switch on."),
                           ("off", "Switch off.")):  # fmt: skip
            command = sub.add_parser(name, help=text)
            command.add_argument("workflow", type=int, help="The workflow's id.")
            if name == "on":
                command.add_argument("--existing", action="store_true",
                                     help="Also run it for existing records.")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for w in Workflow.objects.all():
                state = "on " if w.enabled else "off"
                self.stdout.write(f"{w.pk:>4}  {state}  {w.entity:<8} {w.trigger:<21} {w.name}")
            return
        if action == "tick":
            runs = schedules_run()
            sent = webhooks_deliver_due()
            self.stdout.write(f"{runs} scheduled runs; webhooks: {sent or 'none due'}")
            return
        workflow = Workflow.objects.filter(pk=options["workflow"]).first()
        if workflow is None:
            raise CommandError(f"No workflow {options['workflow']}.")
        if action == "on":
            workflow_enable(workflow=workflow, by=None)
            runs = existing_apply(workflow) if options["existing"] else 0
            self.stdout.write(f"“{workflow}” is on" + (f"; {runs} runs" if runs else "") + ".")
        elif action == "off":
            workflow_disable(workflow=workflow, by=None)
            self.stdout.write(f"“{workflow}” is off.")
        else:
            if not workflow.enabled:
                raise CommandError(f"“{workflow}” is off: switch it on first.")
            try:
                runs = existing_apply(workflow)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"“{workflow}”: {runs} runs.")
