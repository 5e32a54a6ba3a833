"""The known-visitor cookie: a signed contact id, set when a visitor submits a form.

Signed (not encrypted) with the site's secret key, so it cannot be forged; it holds only the
contact's id. Later visits and *only leads* forms use it to know who the visitor is.
"""

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE = "lc_visitor"
_SALT = "leadcycle.intake.visitor"
MAX_AGE = 365 * 24 * 3600


def visitor_contact_id(request: HttpRequest) -> int | None:
    """The contact id of the known visitor, or ``None`` (no, expired or forged cookie)."""
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return (
        int(value["c"]) if isinstance(value, dict) and str(value.get("c", "")).isdigit() else None
    )


def remember_visitor(response: HttpResponse, contact_id: int) -> None:
    response.set_cookie(
        COOKIE,
        signing.dumps({"c": contact_id}, salt=_SALT),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
