"""A small client for LinkedIn's Lead Sync API (Marketing API, Rest.li 2.0), standard library only.

The ``leadFormResponses`` finder by owner, and the get by id (for a lead notification)::

    GET {base}/rest/leadFormResponses?q=owner
        &owner=(sponsoredAccount:urn%3Ali%3AsponsoredAccount%3A123)
        &leadType=(leadType:SPONSORED)&limitedToTestLeads=false
        &submittedAtTimeRange=(start:<ms>,end:<ms>)&start=0&count=100
    Authorization: Bearer <token>
    LinkedIn-Version: YYYYMM
    X-Restli-Protocol-Version: 2.0.0

    GET {base}/rest/leadFormResponses/<response id>

answered with ``{"paging": {"start", "count", "total", "links"}, "elements": [response, …]}``
and with one response.
See docs/linkedin.md for the formats and their sources.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

RESPONSES_PATH = "/rest/leadFormResponses"
# A run stops (and fails, leaving the cursor where it was) rather than page forever.
MAX_PAGES = 500


class LeadSyncError(Exception):
    """LinkedIn refused, or could not be reached, or answered something we cannot read."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _restli_urn(urn: str) -> str:
    # Rest.li 2.0 query syntax: the structure stays readable, the URN inside is escaped.
    return urllib.parse.quote(urn, safe="")


@dataclass(frozen=True)
class LeadSyncApi:
    base_url: str
    access_token: str
    version: str
    timeout: float = 30.0

    def _get(self, path: str, query: str) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}{path}" + (f"?{query}" if query else "")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise LeadSyncError("The API address must start with https:// (or http://).")
        request = urllib.request.Request(url, method="GET")  # noqa: S310 (scheme checked above)
        # Not forwarded if LinkedIn redirects elsewhere.
        request.add_unredirected_header("Authorization", f"Bearer {self.access_token}")
        request.add_header("LinkedIn-Version", self.version)
        request.add_header("X-Restli-Protocol-Version", "2.0.0")
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                body = answer.read()
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc.read(4000))
            retry = exc.headers.get("Retry-After") if exc.headers else None
            hint = f" Retry after {retry} s." if retry and exc.code == 429 else ""
            raise LeadSyncError(
                f"LinkedIn answered {exc.code}{': ' + detail if detail else ''}.{hint}",
                status=exc.code,
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            host = urllib.parse.urlsplit(url).netloc
            raise LeadSyncError(f"Could not reach LinkedIn at {host}: {reason}.") from exc
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise LeadSyncError("LinkedIn's answer is not JSON.") from exc
        if not isinstance(data, dict):
            raise LeadSyncError("LinkedIn's answer is not a JSON object.")
        return data

    def responses_page(
        self,
        *,
        owner_urn: str,
        submitted_from: int,
        submitted_to: int,
        start: int,
        count: int,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One page of form responses of a sponsored account submitted in the time range."""
        query = "&".join(
            [
                "q=owner",
                f"owner=(sponsoredAccount:{_restli_urn(owner_urn)})",
                "leadType=(leadType:SPONSORED)",
                "limitedToTestLeads=false",
                f"submittedAtTimeRange=(start:{int(submitted_from)},end:{int(submitted_to)})",
                f"start={int(start)}",
                f"count={int(count)}",
            ]
        )
        data = self._get(RESPONSES_PATH, query)
        elements = data.get("elements")
        if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
            raise LeadSyncError("LinkedIn's answer has no list of elements.")
        paging = data.get("paging") if isinstance(data.get("paging"), dict) else {}
        return elements, paging  # type: ignore[return-value]

    def response(self, response_id: str) -> dict[str, Any] | None:
        """One form response by id (as named by a lead notification); ``None`` when LinkedIn
        no longer has it (404)."""
        try:
            return self._get(f"{RESPONSES_PATH}/{urllib.parse.quote(response_id, safe='')}", "")
        except LeadSyncError as exc:
            if exc.status == 404:
                return None
            raise

    def responses(
        self, *, owner_urn: str, submitted_from: int, submitted_to: int, count: int = 100
    ) -> list[dict[str, Any]]:
        """Every response in the time range: pages of ``count`` until a page holds fewer (or
        ``paging.total`` is reached)."""
        found: list[dict[str, Any]] = []
        start = 0
        for _ in range(MAX_PAGES):
            elements, paging = self.responses_page(
                owner_urn=owner_urn,
                submitted_from=submitted_from,
                submitted_to=submitted_to,
                start=start,
                count=count,
            )
            found += elements
            start += len(elements)
            total = paging.get("total")
            if len(elements) < count or (isinstance(total, int) and start >= total):
                return found
        raise LeadSyncError(
            f"More than {MAX_PAGES * count} responses in one run; nothing was applied. "
            "Ask LinkedIn for a shorter time range."
        )


def _error_detail(body: bytes) -> str:
    """LinkedIn's error message (``{"status", "serviceErrorCode", "code", "message"}``)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300]
    if not isinstance(data, dict):
        return ""
    parts = [str(data[k]) for k in ("code", "message") if data.get(k)]
    return " — ".join(parts)[:300]
