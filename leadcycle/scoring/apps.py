from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "leadcycle.scoring"
    label = "scoring"
    verbose_name = "Lead scoring"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from leadcycle.changes import records_committed
        from leadcycle.scoring.models import ScoringModel
        from leadcycle.scoring.services import live_cache_clear, on_records_committed

        for signal in (post_save, post_delete):
            signal.connect(live_cache_clear, sender=ScoringModel, dispatch_uid="scoring_live")
        records_committed.connect(on_records_committed, dispatch_uid="scoring_rescore")
