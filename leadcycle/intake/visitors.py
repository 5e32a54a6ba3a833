"""The visitor cookies.

- Known visitor (``lc_visitor``): a signed contact id, set when a visitor submits a form.
  Signed (not encrypted) with the site's secret key, so it cannot be forged; it holds only the
  contact's id. Later visits and *only leads* forms use it to know who the visitor is.
- Anonymous visitor (``lc_anon``): a random id the tracking endpoint gives a browser (or the
  id the tracking script keeps on another site, sent along instead). Visits are kept under it
  until a form submission names the person; they are then credited to that contact.
"""

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from leadcycle.interactions.services import visitor_id_valid

COOKIE = "lc_visitor"
ANONYMOUS_COOKIE = "lc_anon"
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


def anonymous_visitor_id(request: HttpRequest, given: object = None) -> str:
    """The anonymous visitor's id: the one the script sent, else the one in our cookie."""
    if visitor_id_valid(given):
        return str(given)
    cookie = request.COOKIES.get(ANONYMOUS_COOKIE, "")
    return cookie if visitor_id_valid(cookie) else ""


def remember_anonymous(response: HttpResponse, visitor_id: str) -> None:
    response.set_cookie(
        ANONYMOUS_COOKIE,
        visitor_id,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
