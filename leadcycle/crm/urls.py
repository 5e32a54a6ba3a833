from django.urls import path

from leadcycle.crm import views

app_name = "crm"

_PLURALS = {
    "account": "accounts",
    "contact": "contacts",
    "lead": "leads",
    "opportunity": "opportunities",
    "task": "tasks",
}

urlpatterns = []
for key, plural in _PLURALS.items():
    urlpatterns += [
        path(f"{plural}/", views.record_list, {"key": key}, name=f"{key}_list"),
        path(f"{plural}/new/", views.record_create, {"key": key}, name=f"{key}_create"),
        path(f"{plural}/<int:pk>/", views.record_detail, {"key": key}, name=f"{key}_detail"),
        path(f"{plural}/<int:pk>/edit/", views.record_edit, {"key": key}, name=f"{key}_edit"),
        path(f"{plural}/<int:pk>/delete/", views.record_delete, {"key": key}, name=f"{key}_delete"),
        path(f"{plural}/views/", views.view_save, {"key": key}, name=f"{key}_view_save"),
        path(
            f"{plural}/views/<int:view_id>/delete/",
            views.view_delete,
            {"key": key},
            name=f"{key}_view_delete",
        ),
    ]
for key in ("contact", "account", "lead"):
    urlpatterns.append(
        path(f"pick/{_PLURALS[key]}/", views.record_pick, {"key": key}, name=f"{key}_pick")
    )
