from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "leadcycle.segments"
    label = "segments"
    verbose_name = "Segments"
