from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leadcycle.demo"
    label = "demo"
    verbose_name = "Demo dataset"
