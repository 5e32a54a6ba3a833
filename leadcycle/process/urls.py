from django.urls import path

from leadcycle.process import views

app_name = "process"

urlpatterns = [
    path("leads/<int:lead_id>/process/", views.lead_bar, name="bar"),
    path("leads/<int:lead_id>/process/act/", views.lead_act, name="act"),
    path("leads/<int:lead_id>/qualify/", views.lead_qualify, name="qualify"),
    path("queues/<str:name>/", views.queue_page, name="queue"),
    path("processes/", views.process_list, name="list"),
    path("processes/new/", views.process_edit, name="new"),
    path("processes/settings/", views.settings_update, name="settings"),
    path("processes/<int:process_id>/", views.process_edit, name="edit"),
    path("processes/<int:process_id>/copy/", views.process_copy, name="copy"),
]
