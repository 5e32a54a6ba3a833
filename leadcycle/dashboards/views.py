from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadcycle.dashboards.selectors import dashboard_for


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/home.html", dashboard_for(user=request.user))  # type: ignore[arg-type]
