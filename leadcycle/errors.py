"""The one error type services raise for business-rule refusals.

Field-level validation uses Django's ``ValidationError``; permission refusals use Django's
``PermissionDenied``. ``leadcycle.api`` maps all three (and request-parsing errors) to the one
JSON error shape ``{"error": {"code", "message", "fields"}}``; the UI shows them inline.
"""

from typing import Any

from django.http import HttpResponse, JsonResponse


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> HttpResponse:
    """The one error body of the API: ``{"error": {"code", "message", "fields"}}``."""
    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


class DomainError(Exception):
    """A request that is well-formed but refused by a business rule.

    ``code`` is stable: API clients switch on it. ``fields`` maps a field name to a message.
    """

    status = 409

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status
