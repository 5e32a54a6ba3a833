from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "leadcycle.interactions"
    label = "interactions"
    verbose_name = "Interactions and tracking"
