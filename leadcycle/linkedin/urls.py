from django.urls import path

from leadcycle.linkedin import views

app_name = "linkedin"

urlpatterns = [
    path("", views.connector_settings, name="settings"),
    path("mappings/", views.mapping_add, name="mapping_add"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("sync/", views.sync_now, name="sync_now"),
    path("runs/", views.sync_runs, name="runs"),
    path("responses/", views.received_responses, name="responses"),
]
