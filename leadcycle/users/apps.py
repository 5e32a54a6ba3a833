from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "leadcycle.users"
    label = "users"
    verbose_name = "Users, roles and API tokens"

    def ready(self) -> None:
        from leadcycle.users.services import roles_sync

        # After the last app migrates, so that every crm permission exists.
        post_migrate.connect(roles_sync, dispatch_uid="leadcycle.roles_sync")
