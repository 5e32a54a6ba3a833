from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "leadcycle.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from leadcycle.changes import records_committed
        from leadcycle.segments.services import on_records_committed

        records_committed.connect(on_records_committed, dispatch_uid="segments_reevaluate")
