"""Background tasks of the notifications app: thin wrappers over services, taking ids."""

from django_tasks import task

from leadcycle.notifications.services import notification_task_assigned


@task()
def notify_task_assigned(task_id: int, assignee_id: int) -> int | None:
    notification = notification_task_assigned(task_id=task_id, assignee_id=assignee_id)
    return notification.pk if notification else None
