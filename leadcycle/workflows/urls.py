from django.urls import path

from leadcycle.workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.workflow_list, name="list"),
    path("new/", views.workflow_edit, name="new"),
    path("<int:workflow_id>/", views.workflow_edit, name="edit"),
    path("<int:workflow_id>/toggle/", views.workflow_toggle, name="toggle"),
]
