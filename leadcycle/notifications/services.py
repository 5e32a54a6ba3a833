"""Writing notifications."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leadcycle.crm.models import Task
from leadcycle.notifications.models import Notification


@transaction.atomic
def notification_task_assigned(*, task_id: int, assignee_id: int) -> Notification | None:
    """Tell the assignee about a task. Idempotent: a retried job notifies once.

    Nothing is written when the task is gone, done or no longer assigned to that user.
    """
    task = Task.objects.filter(pk=task_id, assignee_id=assignee_id, done=False).first()
    user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    if task is None or user is None:
        return None
    notification, _ = Notification.objects.get_or_create(
        user=user,
        source=f"task_assigned:{task.pk}:{assignee_id}",
        defaults={
            "message": f"Task assigned to you: {task.subject}"[:300],
            "url": reverse("crm:task_detail", args=[task.pk]),
        },
    )
    return notification


def notifications_mark_read(*, user_id: int, ids: list[int] | None = None) -> int:
    """Mark a user's notifications (all, or the given ids) read; returns how many changed."""
    qs = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
