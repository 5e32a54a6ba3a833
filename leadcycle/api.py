"""The REST API: one versioned ``NinjaAPI`` at ``/api/v1/``, one router per domain app.

Auth: ``Authorization: Bearer <token>`` or the browser session (with CSRF on unsafe methods).
Every failure has one shape: ``{"error": {"code", "message", "fields"}}``, mapped here.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from leadcycle.errors import DomainError, error_response
from leadcycle.users.selectors import api_token_user

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """``Authorization: Bearer lc_…`` with a token created in the UI or by ``leadcycle token``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_user(raw_token=token)
        if user is not None:
            request.user = user
        return user


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API docs and schema are for logged-in users or token holders, like the API itself."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if request.user.is_authenticated or (token and api_token_user(raw_token=token)):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped


api = NinjaAPI(
    title="Leadcycle API",
    version="1",
    description="Accounts, contacts, leads, opportunities and tasks. "
    "Authenticate with `Authorization: Bearer <token>` (create one with "
    "`leadcycle token create --user NAME` or on the Tokens page).",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    docs_decorator=docs_access,
)


_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
_PARAM_NAMES = {"payload", "filters", "query"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _PARAM_NAMES:
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _request_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, dict[str, str]] = {}
    for err in exc.errors:
        name = _field_name(err.get("loc", ()))
        code = (
            "unknown_field"
            if err.get("type") == "extra_forbidden"
            else str(err.get("type", "invalid"))
        )
        message = (
            "Unknown field." if code == "unknown_field" else str(err.get("msg", "Invalid value."))
        )
        fields.setdefault(name, {"code": code, "message": message})
    first = next(iter(fields), "body")
    return error_response(
        422,
        "validation_error",
        f"Invalid value for {first}: {fields[first]['message']}"
        if fields
        else "The request is not valid.",
        fields,
    )


@api.exception_handler(DjangoValidationError)
def _record_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    fields: dict[str, dict[str, str]] = {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            err = errors[0]
            message = " ".join(errors[0].messages)
            fields[name if name != "__all__" else "record"] = {
                "code": err.code or "invalid",
                "message": message,
            }
    else:
        fields["record"] = {"code": exc.code or "invalid", "message": " ".join(exc.messages)}
    first = next(iter(fields))
    code = (
        "duplicate"
        if any(f["code"] == "duplicate" for f in fields.values())
        else "validation_error"
    )
    status = 409 if code == "duplicate" else 422
    return error_response(status, code, f"{first}: {fields[first]['message']}", fields)


@api.exception_handler(DomainError)
def _domain_refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    fields = {k: {"code": exc.code, "message": v} for k, v in exc.fields.items()}
    return error_response(exc.status, exc.code, exc.message, fields)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401,
        "not_authenticated",
        "Log in, or send a valid token as 'Authorization: Bearer <token>'. "
        "Session requests that change data also need the CSRF token.",
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc) or "Your role may not do this.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or "No such record.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "rate_limited",
    }
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", "Something went wrong on our side.")


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown URLs under /api/ answer in the API's error shape, not with an HTML page."""
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


from leadcycle.crm.api import router as crm_router  # noqa: E402
from leadcycle.duplicates.api import router as duplicates_router  # noqa: E402
from leadcycle.events.api import router as events_router  # noqa: E402
from leadcycle.events.public_api import router as public_events_router  # noqa: E402
from leadcycle.imports.api import router as imports_router  # noqa: E402
from leadcycle.intake.api import router as intake_router  # noqa: E402
from leadcycle.intake.public_api import router as public_intake_router  # noqa: E402
from leadcycle.interactions.api import router as interactions_router  # noqa: E402
from leadcycle.interactions.public_api import router as public_tracking_router  # noqa: E402
from leadcycle.linkedin.api import router as linkedin_router  # noqa: E402
from leadcycle.linkedin.public_api import router as linkedin_webhook_router  # noqa: E402
from leadcycle.process.api import router as process_router  # noqa: E402
from leadcycle.scoring.api import router as scoring_router  # noqa: E402
from leadcycle.segments.api import router as segments_router  # noqa: E402
from leadcycle.users.api import router as users_router  # noqa: E402
from leadcycle.workflows.api import router as workflows_router  # noqa: E402

api.add_router("/", crm_router)
api.add_router("/", intake_router)
api.add_router("/", events_router)
api.add_router("/", linkedin_router)
api.add_router("/", interactions_router)
api.add_router("/", scoring_router)
api.add_router("/", imports_router)
api.add_router("/", segments_router)
api.add_router("/", process_router)
api.add_router("/", workflows_router)
api.add_router("/", duplicates_router)
api.add_router("/public", public_intake_router)
api.add_router("/public", public_events_router)
api.add_router("/public", linkedin_webhook_router)
api.add_router("/public", public_tracking_router)
api.add_router("/", users_router)


class ApiErrorShapeMiddleware:
    """Responses Django or Ninja produce outside our handlers (405 for an unsupported method)
    get the API's error shape too, so a client can always parse an error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code == 405
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            allowed = response.get("Allow", "")
            shaped = error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here. Allowed: {allowed}.",
            )
            shaped["Allow"] = allowed
            return shaped
        return response
