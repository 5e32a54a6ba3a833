"""``leadcycle segments refresh [--segment ID]``: recompute live dynamic segments now and
print who joined and left. Run it nightly from cron so that time windows ("in the last 90
days") move even on days nothing changes.

Exits non-zero with the reason when the segment is unknown, static or not live."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.segments.models import Segment
from leadcycle.segments.services import segment_refresh


class Command(BaseCommand):
    help = "Segments: refresh live dynamic segments."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="Recompute members now.")
        refresh.add_argument("--segment", type=int, help="Only this live segment (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        segments = Segment.objects.filter(status="live", kind="dynamic").order_by("id")
        if options["segment"] is not None:
            segments = segments.filter(pk=options["segment"])
        chosen = list(segments)
        if not chosen:
            raise CommandError(
                f"No live dynamic segment {options['segment']}."
                if options["segment"] is not None
                else "No live dynamic segment."
            )
        for segment in chosen:
            started = time.perf_counter()
            joined, left = segment_refresh(segment=segment)
            segment.refresh_from_db()
            self.stdout.write(
                f"{segment.name}: {segment.member_count:,} members, {joined:,} joined, "
                f"{left:,} left, {time.perf_counter() - started:.2f} s"
            )
