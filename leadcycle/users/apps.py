from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "leadcycle.users"
    label = "users"
    verbose_name = "Users, roles and API tokens"
