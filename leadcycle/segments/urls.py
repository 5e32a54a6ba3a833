from django.urls import path

from leadcycle.segments import views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_edit, name="new"),
    path("count/", views.segment_count, name="count"),
    path("tree/", views.segment_tree, name="tree"),
    path("<int:pk>/", views.segment_detail, name="detail"),
    path("<int:pk>/edit/", views.segment_edit, name="edit"),
    path("<int:pk>/members.csv", views.segment_export, name="export"),
    path("<int:pk>/import/", views.segment_import, name="import"),
    path("<int:pk>/<str:action>/", views.segment_action, name="action"),
]
