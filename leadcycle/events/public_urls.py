"""Public (no login) event pages, mounted under /e/."""

from django.urls import path

from leadcycle.events import public_views

urlpatterns = [
    path("cancel/<str:token>/", public_views.cancel_page, name="event_cancel_page"),
    path("<slug:slug>/", public_views.event_page, name="event_page"),
]
