"""``leadcycle scoring recompute [--model ID]``: rescore every eligible lead under the live
models now, and print what changed. Run it nightly from cron so that scores fall as
interactions age out of their rules' windows ("in the last N days").

Exits non-zero with the reason when the model is unknown or not live."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.scoring.models import LeadScore, ScoringModel
from leadcycle.scoring.services import model_recompute


class Command(BaseCommand):
    help = "Scoring: recompute live models."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="Rescore every eligible lead now.")
        recompute.add_argument("--model", type=int, help="Only this live model (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        models = ScoringModel.objects.filter(status=ScoringModel.Status.LIVE).order_by("id")
        if options["model"] is not None:
            models = models.filter(pk=options["model"])
        chosen = list(models)
        if not chosen:
            raise CommandError(
                f"No live scoring model {options['model']}."
                if options["model"] is not None
                else "No live scoring model: take one live first."
            )
        for model in chosen:
            started = time.perf_counter()
            became = model_recompute(model_id=model.pk)
            scored = LeadScore.objects.filter(model=model).count()
            self.stdout.write(
                f"{model.name} (v{model.version}): {scored:,} leads scored, {became:,} became "
                f"sales-ready, {time.perf_counter() - started:.1f} s"
            )
