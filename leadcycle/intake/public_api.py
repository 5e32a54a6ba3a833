"""Public intake endpoints of the REST API (no login; rate limited).

``POST /api/v1/public/forms/<slug>/submissions`` takes a JSON object of answers keyed by the
form's field keys. Browsers may call it from the origins the form allows (CORS); a request
from another origin is refused. Send ``Idempotency-Key`` to make retries safe.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from leadcycle.errors import error_response
from leadcycle.intake.models import MarketingForm
from leadcycle.intake.public import body_too_large, client_ip, over_rate_limit
from leadcycle.intake.selectors import form_by_slug
from leadcycle.intake.services import SubmissionRejected, form_check_origin, form_submit
from leadcycle.intake.visitors import anonymous_visitor_id

router = Router(tags=["public intake"], auth=None)


def _cors(response: HttpResponse, form: MarketingForm | None, origin: str) -> HttpResponse:
    if form is not None and origin and form_check_origin(form, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = (
            "Content-Type, Idempotency-Key, Leadcycle-Visitor"
        )
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


@router.api_operation(["OPTIONS"], "/forms/{slug}/submissions", include_in_schema=False)
def submission_preflight(request: HttpRequest, slug: str) -> HttpResponse:
    form = form_by_slug(slug)
    return _cors(HttpResponse(status=204), form, request.headers.get("Origin", ""))


@router.post(
    "/forms/{slug}/submissions",
    summary="Submit a marketing form",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": True,
                        "example": {
                            "email": "ada@example.com",
                            "first_name": "Ada",
                            "consent": True,
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def submission_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Answers keyed by the form's field keys. 201 with the submission id; 422 naming each
    invalid field; 404 unknown form; 413 body over 64 KB; 429 over the rate limit."""
    origin = request.headers.get("Origin", "")
    form = form_by_slug(slug)
    if form is None:
        return error_response(404, "form_not_found", f"No live form {slug!r}.")
    if origin and not form_check_origin(form, origin):
        return error_response(
            403,
            "origin_not_allowed",
            f"{origin} may not submit this form; add it to the form's allowed origins.",
        )
    if body_too_large(request) or len(request.body) > 64 * 1024:
        return _cors(
            error_response(413, "too_large", "The body may be at most 64 KB."), form, origin
        )
    if over_rate_limit(request, f"form:{form.pk}"):
        response = error_response(429, "rate_limited", "Too many submissions; retry in a minute.")
        response["Retry-After"] = "60"
        return _cors(response, form, origin)
    try:
        raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _cors(
            error_response(400, "invalid_json", "The body is not valid JSON."), form, origin
        )
    if not isinstance(raw, dict):
        return _cors(
            error_response(
                422,
                "validation_error",
                "Send a JSON object of answers.",
                {"body": {"code": "invalid_type", "message": "Expected an object."}},
            ),
            form,
            origin,
        )
    try:
        submission = form_submit(
            form=form,
            raw=raw,
            channel="api",
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
            anonymous_visitor_id=anonymous_visitor_id(
                request, request.headers.get("Leadcycle-Visitor")
            ),
        )
    except SubmissionRejected as rejected:
        first = next(iter(rejected.errors))
        return _cors(
            error_response(
                422,
                "validation_error",
                f"{first}: {rejected.errors[first]['message']}",
                rejected.errors,
            ),
            form,
            origin,
        )
    body: dict[str, Any] = {
        "submission_id": submission.pk,
        "status": "accepted",
        "message": form.thank_you_message,
        "redirect_url": form.redirect_url or None,
    }
    return _cors(JsonResponse(body, status=201), form, origin)
