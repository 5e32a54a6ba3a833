from django.urls import path

from leadcycle.interactions import views

app_name = "interactions"

urlpatterns = [
    path("", views.interaction_list, name="list"),
    path("kinds/", views.kind_list, name="kinds"),
    path("kinds/<str:key>/delete/", views.kind_delete, name="kind_delete"),
    path("tracking/", views.tracking, name="tracking"),
]
