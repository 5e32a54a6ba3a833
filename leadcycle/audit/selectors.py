"""Reading the audit trail of a record."""

from django.db import models
from django.db.models import QuerySet

from leadcycle.audit.models import AuditEntry


def audit_trail(*, instance: models.Model, limit: int = 200) -> QuerySet[AuditEntry]:
    """The newest-first audit entries of one record."""
    return AuditEntry.objects.filter(
        record_type=instance._meta.label_lower, record_id=instance.pk
    ).select_related("actor")[:limit]
