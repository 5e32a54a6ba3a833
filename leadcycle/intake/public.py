"""Guards shared by the public intake endpoints: client address, rate limit, body size."""

from django.conf import settings
from django.http import HttpRequest

from leadcycle.intake.services import rate_limit_hit

MAX_BODY_BYTES = 64 * 1024


def client_ip(request: HttpRequest) -> str:
    """The client's address; the first X-Forwarded-For hop only behind a trusted proxy."""
    if settings.LEADCYCLE_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def over_rate_limit(request: HttpRequest, endpoint: str, *, limit: int | None = None) -> bool:
    """Count this request against ``endpoint``'s per-address limit (requests a minute; the
    intake limit unless ``limit`` is given); ``True`` when it is over."""
    return rate_limit_hit(
        key=f"{endpoint}:{client_ip(request)}",
        limit=settings.LEADCYCLE_INTAKE_RATE_LIMIT if limit is None else limit,
    )


def body_too_large(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return declared > MAX_BODY_BYTES
