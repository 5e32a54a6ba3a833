from django.urls import path

from leadcycle.duplicates import views

app_name = "duplicates"

urlpatterns = [
    path("", views.review, name="home"),
    path("merges/", views.merge_list, name="merges"),
    path("merges/<int:pk>/", views.merge_detail, name="merge"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="undo"),
    path("<str:plural>/", views.review, name="review"),
    path("<str:plural>/not-duplicates/", views.dismiss, name="dismiss"),
    path("<str:plural>/<int:pk>/merge/", views.start, name="start"),
    path("<str:plural>/<int:survivor_pk>/merge/<int:merged_pk>/", views.compare, name="compare"),
]
