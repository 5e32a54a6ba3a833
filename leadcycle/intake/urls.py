from django.urls import path

from leadcycle.intake import views

app_name = "intake"

urlpatterns = [
    path("forms/", views.form_list, name="form_list"),
    path("forms/new/", views.form_create, name="form_create"),
    path("forms/<int:pk>/", views.form_detail, name="form_detail"),
    path("forms/<int:pk>/edit/", views.form_edit, name="form_edit"),
    path("forms/<int:pk>/delete/", views.form_delete, name="form_delete"),
    path("forms/<int:pk>/preview/", views.form_preview, name="form_preview"),
    path("forms/<int:pk>/submissions/", views.submissions, name="submissions"),
    path("forms/<int:pk>/fields/new/", views.field_add, name="field_add"),
    path("forms/<int:pk>/fields/<int:field_pk>/edit/", views.field_edit, name="field_edit"),
    path("forms/<int:pk>/fields/<int:field_pk>/delete/", views.field_delete, name="field_delete"),
    path("forms/<int:pk>/fields/<int:field_pk>/move/", views.field_move, name="field_move"),
    path("strategies/", views.strategy_list, name="strategy_list"),
    path("strategies/new/", views.strategy_create, name="strategy_create"),
    path("strategies/<int:pk>/edit/", views.strategy_edit, name="strategy_edit"),
    path("strategies/<int:pk>/delete/", views.strategy_delete, name="strategy_delete"),
    path("settings/", views.intake_settings, name="settings"),
]
