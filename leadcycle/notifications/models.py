"""In-app notifications: a message to one user about a record, read or unread."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """Tells a user that something needs them, e.g. a task was assigned to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    # What caused it, so a replayed task does not notify twice.
    source = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "source"], name="notification_once_per_source")
        ]

    def __str__(self) -> str:
        return self.message
