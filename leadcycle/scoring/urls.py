from django.urls import path

from leadcycle.scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("new/", views.model_create, name="model_create"),
    path("check/", views.model_check, name="model_check"),
    path("builder/", views.model_builder, name="model_builder"),
    path("<int:pk>/", views.model_detail, name="model_detail"),
    path("<int:pk>/edit/", views.model_edit, name="model_edit"),
    path("<int:pk>/backtest/", views.model_backtest, name="model_backtest"),
    path("<int:pk>/<str:action>/", views.model_action, name="model_action"),
]
