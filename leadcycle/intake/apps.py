from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntakeConfig(AppConfig):
    name = "leadcycle.intake"
    label = "intake"
    verbose_name = "Intake channels and matching strategies"

    def ready(self) -> None:
        from leadcycle.intake.services import intake_defaults_ensure

        post_migrate.connect(intake_defaults_ensure, sender=self, dispatch_uid="intake_defaults")
