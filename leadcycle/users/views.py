"""Login/logout and the API token page (create, list, revoke your own tokens)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leadcycle.users.models import ApiToken
from leadcycle.users.services import api_token_create, api_token_revoke


def tokens(request: HttpRequest) -> HttpResponse:
    issued = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        issued = api_token_create(user=request.user, name=name or "API token")  # type: ignore[arg-type]
        messages.success(request, "Token created. Copy it now: it will not be shown again.")
    return render(
        request,
        "users/tokens.html",
        {"tokens": ApiToken.objects.filter(user=request.user), "issued": issued},  # type: ignore[misc]
    )


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # type: ignore[misc]
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
