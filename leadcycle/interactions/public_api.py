"""``POST /api/v1/public/track``: page views reported by the tracking script (no login; rate
limited per address).

Body (JSON, sent as ``text/plain`` so that browsers need no preflight): ``url`` (required),
``title``, ``referrer``, ``visitor_id`` (the script's anonymous id). A visitor carrying the
known-visitor cookie is credited as that contact; anyone else is kept as an anonymous visitor
until a form submission identifies them.
"""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import get_random_string
from ninja import Router

from leadcycle.errors import error_response
from leadcycle.intake.public import over_rate_limit
from leadcycle.intake.visitors import anonymous_visitor_id, remember_anonymous, visitor_contact_id
from leadcycle.interactions.services import website_visit_record

router = Router(tags=["public tracking"], auth=None)
MAX_BODY = 16 * 1024


def _cors(response: HttpResponse) -> HttpResponse:
    # Any site may report a page view; no credentials are read from a cross-site request.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@router.api_operation(["OPTIONS"], "/track", include_in_schema=False)
def track_preflight(request: HttpRequest) -> HttpResponse:
    return _cors(HttpResponse(status=204))


@router.post("/track", summary="Report a website visit", url_name="track")
def track(request: HttpRequest) -> HttpResponse:
    """202 with the visitor's id; 400 unreadable JSON; 422 without ``url``; 413 over 16 KB;
    429 over the rate limit."""
    if len(request.body) > MAX_BODY:
        return _cors(error_response(413, "too_large", "The body may be at most 16 KB."))
    if over_rate_limit(request, "track", limit=settings.LEADCYCLE_TRACKING_RATE_LIMIT):
        response = error_response(429, "rate_limited", "Too many page views; retry in a minute.")
        response["Retry-After"] = "60"
        return _cors(response)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _cors(error_response(400, "invalid_json", "The body is not valid JSON."))
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _cors(
            error_response(
                422,
                "validation_error",
                "url: Give the page's http(s) address.",
                {"url": {"code": "required", "message": "Give the page's http(s) address."}},
            )
        )
    assert isinstance(data, dict)
    visitor = anonymous_visitor_id(request, data.get("visitor_id")) or get_random_string(24)
    contact_id = visitor_contact_id(request)

    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    website_visit_record(
        url=url,
        title=text("title"),
        referrer=text("referrer"),
        visitor_id=visitor,
        contact_id=contact_id,
    )
    response = JsonResponse({"visitor_id": visitor, "known": contact_id is not None}, status=202)
    remember_anonymous(response, visitor)
    return _cors(response)
