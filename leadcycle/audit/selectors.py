"""Reading the audit trail of a record."""

from collections.abc import Iterable

from django.db import models
from django.db.models import QuerySet

from leadcycle.audit.models import AuditEntry


def audit_trail(
    *, instance: models.Model, also_ids: Iterable[int] = (), limit: int = 200
) -> QuerySet[AuditEntry]:
    """The newest-first audit entries of one record, and of the records of the same type
    ``also_ids`` names (those merged into it: their history is its history)."""
    return AuditEntry.objects.filter(
        record_type=instance._meta.label_lower, record_id__in=[instance.pk, *also_ids]
    ).select_related("actor")[:limit]
