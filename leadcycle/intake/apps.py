from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadcycle.intake"
    label = "intake"
    verbose_name = "Intake channels and matching strategies"
