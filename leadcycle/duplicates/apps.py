from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "leadcycle.duplicates"
    label = "duplicates"
    verbose_name = "Duplicate review and merge"
