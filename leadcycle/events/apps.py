from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EventsConfig(AppConfig):
    name = "leadcycle.events"
    label = "events"
    verbose_name = "Events and registrations"

    def ready(self) -> None:
        from leadcycle.events.services import event_strategies_ensure

        post_migrate.connect(
            event_strategies_ensure, sender=self, dispatch_uid="events_matching_strategies"
        )
