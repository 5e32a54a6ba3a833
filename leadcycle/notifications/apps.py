from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "leadcycle.notifications"
    label = "notifications"
    verbose_name = "Notifications"
