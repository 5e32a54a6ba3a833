"""LinkedIn's webhook (no login; signature verified), mounted under /api/v1/public/.

``GET /api/v1/public/linkedin/webhook?challengeCode=<uuid>`` answers LinkedIn's validation with
``{"challengeCode", "challengeResponse"}`` (hex HMAC-SHA256 of the code, keyed with the app's
client secret); a validation sent as a POST of ``{"challengeCode": …}`` is answered alike.
``POST`` with ``X-LI-Signature`` carries a lead notification: 200 ``{"status": "accepted" |
"duplicate" | "ignored", "response_ids": […]}``; a missing or wrong signature is 401 in the API's
error shape and nothing is written.
"""

import json
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from leadcycle.errors import error_response
from leadcycle.intake.public import MAX_BODY_BYTES, body_too_large
from leadcycle.linkedin.models import Connector
from leadcycle.linkedin.selectors import connectors_for_webhook
from leadcycle.linkedin.services import linkedin_notification_receive
from leadcycle.linkedin.signing import challenge_response, signature_valid

router = Router(tags=["linkedin webhook"], auth=None)

PATH = "/linkedin/webhook"
# LinkedIn's challenge codes are type-4 UUIDs. Answering only UUIDs keeps the endpoint from
# signing arbitrary text with the client secret (which would forge notification signatures).
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _challenge_answer(code: object) -> HttpResponse:
    if not isinstance(code, str) or not _UUID.match(code):
        return error_response(
            400,
            "bad_request",
            "challengeCode must be the UUID LinkedIn sends.",
            {"challengeCode": {"code": "invalid", "message": "Expected a UUID."}},
        )
    connectors = connectors_for_webhook()
    if not connectors:
        return error_response(
            503, "linkedin_not_configured", "Set the LinkedIn app's client secret first."
        )
    return JsonResponse(
        {
            "challengeCode": code,
            "challengeResponse": challenge_response(code, connectors[0].client_secret),
        }
    )


def _connector_for_owner(verified: list[Connector], payload: object) -> Connector:
    """Of the connectors whose secret signs the body (one LinkedIn app may serve several), the
    one syncing the notification's ad account; else the first."""
    first = payload[0] if isinstance(payload, list) and payload else payload
    owner = first.get("owner") if isinstance(first, dict) else None
    account = owner.get("sponsoredAccount") if isinstance(owner, dict) else None
    for connector in verified:
        if account and account in connector.sponsored_account_urns():
            return connector
    return verified[0]


@router.get(PATH, summary="LinkedIn webhook validation (challenge)")
def webhook_challenge(request: HttpRequest) -> HttpResponse:
    """LinkedIn calls this when the webhook is registered and every two hours after."""
    return _challenge_answer(request.GET.get("challengeCode"))


@router.post(
    PATH,
    summary="LinkedIn lead notification",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": True,
                        "example": {
                            "type": "LEAD_ACTION",
                            "leadGenFormResponse": "urn:li:leadGenFormResponse:1a2b3c-4",
                            "leadGenForm": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:1,1)",
                            "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:123"},
                            "leadType": "SPONSORED",
                            "leadAction": "CREATED",
                            "occurredAt": 1686182358881,
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def webhook_notification(request: HttpRequest) -> HttpResponse:
    """Signed with ``X-LI-Signature``. A verified notification of a new lead enqueues a sync
    that fetches it; a replayed one (already received) enqueues nothing."""
    if body_too_large(request) or len(request.body) > MAX_BODY_BYTES:
        return error_response(413, "too_large", "The body may be at most 64 KB.")
    body = request.body
    signature = request.headers.get("X-LI-Signature", "")
    if not signature:
        try:
            unsigned = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            unsigned = None
        if isinstance(unsigned, dict) and "challengeCode" in unsigned:
            return _challenge_answer(unsigned["challengeCode"])
        return error_response(401, "invalid_signature", "The X-LI-Signature header is missing.")
    verified = [
        c for c in connectors_for_webhook() if signature_valid(body, signature, c.client_secret)
    ]
    if not verified:
        return error_response(
            401, "invalid_signature", "The X-LI-Signature header does not sign this body."
        )
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "invalid_json", "The body is not valid JSON.")
    connector = _connector_for_owner(verified, payload)
    outcome = linkedin_notification_receive(connector=connector, payload=payload)
    return JsonResponse({"status": outcome.status, "response_ids": list(outcome.response_ids)})
