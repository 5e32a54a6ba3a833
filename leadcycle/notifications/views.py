from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leadcycle.notifications.selectors import notifications_for
from leadcycle.notifications.services import notifications_mark_read


def notification_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notifications/list.html",
        {"notifications": notifications_for(user_id=request.user.pk or 0)},
    )


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user_id=request.user.pk or 0)
    return redirect("notifications")
