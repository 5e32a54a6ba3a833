from django.urls import path

from leadcycle.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("<int:pk>/", views.job_page, name="job"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/errors.csv", views.job_errors_csv, name="errors_csv"),
    path("mappings/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
