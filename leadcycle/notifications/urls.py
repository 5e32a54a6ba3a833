from django.urls import path

from leadcycle.notifications import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read_all, name="notifications_read"),
]
