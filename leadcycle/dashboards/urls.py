from django.urls import path

from leadcycle.dashboards import views

urlpatterns = [path("", views.dashboard, name="dashboard")]
