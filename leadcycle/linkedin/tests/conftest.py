"""A fake LinkedIn on 127.0.0.1 (random port, in a thread) answering the Lead Sync API in the
documented shapes, and a connector pointed at it. Nothing here calls LinkedIn."""

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from leadcycle.intake.models import IntakeSettings
from leadcycle.linkedin.models import Connector, FieldMapping

TOKEN = "AQV-test-access-token-0123456789"
SECRET = "test-client-secret"
ACCOUNT = "urn:li:sponsoredAccount:507404993"
FORM = "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:3162,1)"
# Question ids of the test form (LinkedIn numbers them; the mapping names them).
Q_EMAIL, Q_FIRST, Q_LAST, Q_COMPANY, Q_TITLE = 10549, 10550, 10551, 10552, 10553


def answer(question_id: int, text: str) -> dict[str, Any]:
    return {"answerDetails": {"textQuestionAnswer": {"answer": text}}, "questionId": question_id}


def lead_response(
    response_id: str,
    submitted_at: int,
    *,
    email: str = "ada@example.com",
    first: str = "Ada",
    last: str = "Lovelace",
    company: str = "",
    form: str = FORM,
    owner: str = ACCOUNT,
    extra_answers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``leadFormResponses`` element as the Lead Sync API documents it."""
    answers = [answer(Q_EMAIL, email), answer(Q_FIRST, first), answer(Q_LAST, last)]
    if company:
        answers.append(answer(Q_COMPANY, company))
    return {
        "owner": {"sponsoredAccount": owner},
        "submitter": "urn:li:person:MpGcnvaU_p",
        "leadType": "SPONSORED",
        "leadMetadata": {
            "sponsoredLeadMetadata": {"campaign": "urn:li:sponsoredCampaign:367378525"}
        },
        "versionedLeadGenFormUrn": form,
        "id": response_id,
        "submittedAt": submitted_at,
        "testLead": False,
        "associatedEntity": {"associatedCreative": "urn:li:sponsoredCreative:241257736"},
        "formResponse": {
            "answers": answers + (extra_answers or []),
            "consentResponses": [{"accepted": True, "consentId": 21}],
        },
    }


def _restli_value(text: str) -> str:
    """``(sponsoredAccount:urn:li:…)`` → the URN; ``(leadType:SPONSORED)`` → ``SPONSORED``."""
    inner = text.strip()[1:-1]
    return inner.split(":", 1)[1]


@dataclass
class FakeLinkedIn:
    """What the fake server holds and saw. Set ``fail`` to ``(status, body)`` to refuse."""

    url: str = ""
    token: str = TOKEN
    responses: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: tuple[int, dict[str, Any]] | None = None
    hidden_from_finder: set[str] = field(default_factory=set)

    def add(self, *responses: dict[str, Any]) -> None:
        self.responses.extend(responses)

    def finder_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/rest/leadFormResponses"]


def _handler(fake: FakeLinkedIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
            fake.requests.append(
                {"path": split.path, "query": query, "headers": dict(self.headers.items())}
            )
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                return self._send(
                    401,
                    {
                        "status": 401,
                        "serviceErrorCode": 65600,
                        "code": "INVALID_ACCESS_TOKEN",
                        "message": "Invalid access token",
                    },
                )
            if (
                self.headers.get("X-Restli-Protocol-Version") != "2.0.0"
                or not self.headers.get("LinkedIn-Version", "").isdigit()
            ):
                return self._send(400, {"status": 400, "message": "Missing version headers"})
            if fake.fail is not None:
                return self._send(*fake.fail)
            if split.path.startswith("/rest/leadFormResponses/"):
                wanted = urllib.parse.unquote(split.path.rsplit("/", 1)[1])
                for element in fake.responses:
                    if element["id"] == wanted:
                        return self._send(200, element)
                return self._send(404, {"status": 404, "message": "Not found"})
            if split.path != "/rest/leadFormResponses" or query.get("q") != "owner":
                return self._send(404, {"status": 404, "message": "No such resource"})
            owner = _restli_value(query["owner"])
            assert _restli_value(query["leadType"]) == "SPONSORED"
            time_range = dict(
                part.split(":", 1) for part in query["submittedAtTimeRange"][1:-1].split(",")
            )
            start_ms, end_ms = int(time_range["start"]), int(time_range["end"])
            matching = sorted(
                (
                    e
                    for e in fake.responses
                    if e["owner"]["sponsoredAccount"] == owner
                    and start_ms <= e["submittedAt"] <= end_ms
                    and e["id"] not in fake.hidden_from_finder
                ),
                key=lambda e: -e["submittedAt"],  # newest first: the sync must not rely on order
            )
            start, count = int(query.get("start", 0)), int(query.get("count", 10))
            page = matching[start : start + count]
            return self._send(
                200,
                {
                    "paging": {"start": start, "count": count, "links": [], "total": len(matching)},
                    "elements": page,
                },
            )

    return Handler


@pytest.fixture
def fake_linkedin() -> Any:
    fake = FakeLinkedIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def now_ms(offset_seconds: float = 0) -> int:
    return int((time.time() + offset_seconds) * 1000)


@pytest.fixture
def connector(db: None, fake_linkedin: FakeLinkedIn) -> Connector:
    """An enabled connector pointed at the fake LinkedIn, mapping email, names and company."""
    defaults = IntakeSettings.objects.get()
    connector = Connector.objects.create(
        enabled=True,
        api_base_url=fake_linkedin.url,
        access_token=TOKEN,
        client_secret=SECRET,
        sponsored_accounts=ACCOUNT,
        contact_strategy=defaults.default_contact_strategy,
        lead_strategy=defaults.default_lead_strategy,
        lead_topic="LinkedIn: Analytics Suite",
        campaign="Spring Webinar Series",
    )
    for question, path in (
        (Q_EMAIL, "contact.email"),
        (Q_FIRST, "contact.first_name"),
        (Q_LAST, "contact.last_name"),
        (Q_COMPANY, "account.name"),
    ):
        FieldMapping.objects.create(connector=connector, question_id=str(question), maps_to=path)
    return connector
