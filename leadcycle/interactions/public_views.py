"""Public tracking pages: the tracking script, the email open pixel and the click redirect.

No login. The pixel and the redirect carry a signed token made by ``tracked_links``; a forged
or altered token records nothing, and the redirect goes only to the URL inside a valid token.
Over the per-address rate limit they still answer (an image, a redirect) but record nothing.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from leadcycle.intake.public import over_rate_limit
from leadcycle.interactions.services import email_click_record, email_open_record, token_url

# A transparent 1x1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _limited(request: HttpRequest) -> bool:
    return over_rate_limit(request, "email", limit=settings.LEADCYCLE_TRACKING_RATE_LIMIT)


@require_GET
@cache_control(public=True, max_age=3600)
def tracking_script(request: HttpRequest) -> HttpResponse:
    """``<script src="https://<leadcycle>/t.js" async></script>`` on any page reports visits."""
    endpoint = request.build_absolute_uri(reverse("api:track"))
    return render(
        request,
        "interactions/tracking.js",
        {"endpoint": endpoint},
        content_type="application/javascript; charset=utf-8",
    )


@require_GET
def email_opened(request: HttpRequest, token: str) -> HttpResponse:
    if not _limited(request):
        email_open_record(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def email_clicked(request: HttpRequest, token: str) -> HttpResponse:
    url = token_url(token) if _limited(request) else email_click_record(token=token)
    if url is None:
        return render(request, "interactions/link_invalid.html", status=404)
    return HttpResponseRedirect(url)
