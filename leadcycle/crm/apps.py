from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "leadcycle.crm"
    label = "crm"
    verbose_name = "Accounts, contacts, leads and opportunities"
