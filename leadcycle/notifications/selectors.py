from django.db.models import QuerySet

from leadcycle.notifications.models import Notification


def notifications_for(*, user_id: int, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id)[:limit]


def unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
