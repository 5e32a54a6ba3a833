from django.http import HttpRequest

from leadcycle.notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, int]:
    if not request.user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user_id=request.user.pk)}
