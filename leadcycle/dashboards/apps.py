from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "leadcycle.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"
