from django.urls import include, path

from leadcycle.api import api
from leadcycle.intake.public_views import hosted_form

urlpatterns = [
    path("f/<slug:slug>", hosted_form, name="hosted_form"),
    path("e/", include("leadcycle.events.public_urls")),
    path("api/v1/", api.urls),
    path("", include("leadcycle.users.urls")),
    path("", include("leadcycle.dashboards.urls")),
    path("", include("leadcycle.notifications.urls")),
    path("", include("leadcycle.crm.urls")),
    path("intake/", include("leadcycle.intake.urls")),
    path("events/", include("leadcycle.events.urls")),
    path("linkedin/", include("leadcycle.linkedin.urls")),
]
