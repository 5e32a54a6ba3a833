"""The audit trail: who created, changed or deleted which record, when, and what changed."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One change to one record, written in the same transaction as the change itself.

    ``changes`` maps a field name to ``[before, after]`` (JSON-friendly values); a create has
    ``before`` null, a delete has ``after`` null. Rows are never updated or deleted.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    record_type = models.CharField(max_length=50, help_text="app_label.model, e.g. crm.lead")
    record_id = models.BigIntegerField()
    record_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["record_type", "record_id", "-at"], name="audit_record_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["create", "update", "delete"]),
                name="audit_action_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.record_type}#{self.record_id}"
