from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadcycle.audit"
    label = "audit"
    verbose_name = "Audit trail"
