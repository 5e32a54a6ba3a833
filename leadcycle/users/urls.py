from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from leadcycle.api import api_not_found
from leadcycle.users import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="users/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("healthz", views.healthz, name="healthz"),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
