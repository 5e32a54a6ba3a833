from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class IntakeConfig(AppConfig):
    name = "leadcycle.intake"
    label = "intake"
    verbose_name = "Intake channels and matching strategies"

    def ready(self) -> None:
        from leadcycle.intake.models import FormField, MarketingForm, MatchingStrategy
        from leadcycle.intake.selectors import form_cache_clear
        from leadcycle.intake.services import intake_defaults_ensure

        post_migrate.connect(intake_defaults_ensure, sender=self, dispatch_uid="intake_defaults")
        # The public endpoints' form cache (see form_by_slug) forgets a form when it changes.
        for model in (MarketingForm, FormField, MatchingStrategy):
            for signal in (post_save, post_delete):
                signal.connect(form_cache_clear, sender=model, dispatch_uid=f"form_cache_{model}")
