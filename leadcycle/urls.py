from django.urls import include, path

from leadcycle.api import api
from leadcycle.intake.public_views import hosted_form
from leadcycle.interactions import public_views as tracking

urlpatterns = [
    path("f/<slug:slug>", hosted_form, name="hosted_form"),
    path("e/", include("leadcycle.events.public_urls")),
    path("t.js", tracking.tracking_script, name="tracking_script"),
    path("t/o/<str:token>.gif", tracking.email_opened, name="email_opened"),
    path("t/c/<str:token>", tracking.email_clicked, name="email_clicked"),
    path("interactions/", include("leadcycle.interactions.urls")),
    path("scoring/", include("leadcycle.scoring.urls")),
    path("imports/", include("leadcycle.imports.urls")),
    path("segments/", include("leadcycle.segments.urls")),
    path("workflows/", include("leadcycle.workflows.urls")),
    path("duplicates/", include("leadcycle.duplicates.urls")),
    path("api/v1/", api.urls),
    path("", include("leadcycle.users.urls")),
    path("", include("leadcycle.dashboards.urls")),
    path("", include("leadcycle.notifications.urls")),
    path("", include("leadcycle.process.urls")),
    path("", include("leadcycle.crm.urls")),
    path("intake/", include("leadcycle.intake.urls")),
    path("events/", include("leadcycle.events.urls")),
    path("linkedin/", include("leadcycle.linkedin.urls")),
]
