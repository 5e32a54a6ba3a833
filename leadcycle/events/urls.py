"""Staff event pages, mounted under /events/."""

from django.urls import path

from leadcycle.events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("new/", views.event_create, name="event_create"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("<int:pk>/delete/", views.event_delete, name="event_delete"),
    path("<int:pk>/registrations.csv", views.registrations_csv, name="registrations_csv"),
    path("<int:pk>/registrations/new/", views.registration_add, name="registration_add"),
    path(
        "<int:pk>/registrations/<int:reg_id>/cancel/",
        views.registration_cancel,
        name="registration_cancel",
    ),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/check-in/<int:reg_id>/", views.check_in_do, name="check_in_do"),
    path("<int:pk>/check-in/<int:reg_id>/undo/", views.check_in_undo, name="check_in_undo"),
]
