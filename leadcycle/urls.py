from django.urls import include, path

from leadcycle.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("leadcycle.users.urls")),
    path("", include("leadcycle.dashboards.urls")),
    path("", include("leadcycle.notifications.urls")),
    path("", include("leadcycle.crm.urls")),
]
