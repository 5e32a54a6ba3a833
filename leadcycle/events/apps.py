from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "leadcycle.events"
    label = "events"
    verbose_name = "Events and registrations"
