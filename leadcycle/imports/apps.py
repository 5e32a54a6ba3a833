from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "leadcycle.imports"
    label = "imports"
    verbose_name = "Imports"
