"""Workload ``intake_http``: marketing-form submissions through the public HTTP endpoint,
served by the production server, under 50 concurrent clients.

Setup makes a live form (default matching strategies from ``IntakeSettings``; fields email →
``contact.email`` required, first name, last name, company → ``account.name``) and the request
bodies, and starts gunicorn as ``leadcycle serve`` does in production (``DEBUG`` off, 2 sync
workers, access log on) on a free loopback port, against the bench database. The bodies mix:

- **50 %** existing contacts of the dataset, their email re-typed with other capitals and
  spaces around it, with their own names and their account's name (re-cased at times);
- new people (30 % naming an existing company, 60 % a new one, 10 % no company);
- **4 %** extra copies of some new people, re-typed, sent right after the first one, so that
  several clients submit the same new person (and company) at the same moment: the race.

The load is 50 asyncio clients speaking HTTP/1.1 over ``asyncio.open_connection`` (no client
library), each with its own keep-alive connection, taking the next body from a shared list.
Gunicorn's sync workers close the connection after every response (``Connection: close``), so
the clients reconnect; connecting is part of each request's latency. The run is bounded by a
number of submissions per scale and by a time limit.

Ours is ``leadcycle.wsgi:application``: Django's middleware, django-ninja and
``leadcycle.intake.services.form_submit``. The baseline is the same job in hand-written SQL behind
a bare WSGI callable on the same gunicorn (:mod:`.intake_http_sql`): the ratio is what the
application stack costs over the server's floor for the same writes.

Checks: every response 201; no duplicate contact, open lead or company; contacts, leads and
accounts created and leads linked to existing contacts as the bodies imply; one stored
submission and one ``form_submitted`` interaction per request, linked to the right contact.

Restore deletes every row above the high-water marks taken in setup and writes back the
existing contacts the requests named as they were (email, names, account, ``updated_at``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from bench.cleanup import delete_lead_dependents_above
from bench.dataset import COMPANY_KINDS, COMPANY_WORDS, FIRST_NAMES, FREE_MAIL, LAST_NAMES
from bench.registry import Baseline, Check, Context, Facts, Outcome, Workload, register
from bench.workloads.contacts_with_leads import _retype
from leadcycle.crm.normalize import normalize_email
from leadcycle.intake.fields import normalize_text
from leadcycle.intake.models import FormField, IntakeSettings, MarketingForm

REPO = Path(__file__).resolve().parents[2]
SLUG = "bench-intake-http"
CLIENTS = 50
WORKERS = 2
SUBMISSIONS = {"tiny": 200, "small": 5_000, "medium": 10_000, "large": 20_000}
TIME_LIMIT_S = 300.0
"""A run stops taking new requests after this long (``details.truncated`` then says so)."""
EXISTING_SHARE = 0.5
RACE_SHARE = 0.04
TARGET_PER_S = 500
TARGET_P99_MS = 100
RATE_LIMIT = 1_000_000_000
"""Requests per client address per minute: all load comes from 127.0.0.1."""
CLK_TCK = os.sysconf("SC_CLK_TCK")


# Input -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    body: bytes
    email_normalized: str
    existing_id: int | None
    """The dataset contact this request names, or ``None`` for a new person."""
    new_company: str | None
    """Normalised name of a company that is not in the dataset, when the request names one."""


def _new_company(word: str, kind: str, k: int) -> str:
    # "Intake" never occurs in the dataset's names ("<word> <kind> <legal suffix>").
    return f"{word} {kind} Intake {k}"


def build_requests(*, n: int, seed: int, max_contact_id: int, max_account_id: int) -> tuple[
    list[_Request], dict[int, tuple[Any, ...]]
]:  # fmt: skip
    """The request bodies in sending order, and the existing contacts they name (their rows
    as they were, to restore after a run)."""
    rng = random.Random(f"{seed}:intake_http")
    n_existing = int(n * EXISTING_SHARE)
    n_race = int(n * RACE_SHARE)
    n_new = n - n_existing - n_race
    wanted = sorted({1 + rng.randrange(max_contact_id) for _ in range(n_existing)})
    contacts: dict[int, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                "SELECT c.id, c.email, c.first_name, c.last_name, c.account_id, c.consent,"  # noqa: S608
                " c.updated_at, a.name FROM crm_contact c"
                f" LEFT JOIN crm_account a ON a.id = c.account_id WHERE c.id IN ({marks})",
                chunk,
            )
            contacts.update({row[0]: row for row in cursor.fetchall()})
        account_ids = [1 + rng.randrange(max_account_id) for _ in range(max(1, n // 10))]
        names: list[str] = []
        for start in range(0, len(account_ids), 900):
            chunk = account_ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT name FROM crm_account WHERE id IN ({marks})", chunk)  # noqa: S608
            names.extend(name for (name,) in cursor.fetchall())
    names.sort()
    existing_ids = sorted(contacts)

    def body(email: str, first: str, last: str, company: str | None) -> bytes:
        answers = {"email": email, "first_name": first, "last_name": last}
        if company:
            answers["company"] = company
        return json.dumps(answers).encode()

    def recase(name: str) -> str:
        return name.upper() if rng.random() < 0.3 else name

    units: list[list[_Request]] = []
    for _ in range(n_existing):
        cid = existing_ids[rng.randrange(len(existing_ids))]
        _, email, first, last, _, _, _, account_name = contacts[cid]
        named = recase(account_name) if account_name else None
        units.append(
            [_Request(body(_retype(email, rng), first, last, named), email.lower(), cid, None)]
        )
    new_units: list[list[_Request]] = []
    for k in range(n_new):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # ".f<k>@" cannot occur in the dataset's addresses, which end in the contact id.
        email = f"{first}.{last}.f{k}@{rng.choice(FREE_MAIL).capitalize()}"
        pick = rng.random()
        new_company = None
        if pick < 0.3:
            company: str | None = recase(rng.choice(names))
        elif pick < 0.9:
            company = _new_company(rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS), k)
            new_company = normalize_text(company)
        else:
            company = None
        typed = email if rng.random() < 0.7 else f" {email}  "
        new_units.append(
            [_Request(body(typed, first, last, company), email.lower(), None, new_company)]
        )
    # The race: a few new people are sent 2-4 times in a row, re-typed each time, so that
    # several clients hold the same new person at once.
    left = n_race
    while left > 0:
        unit = new_units[rng.randrange(len(new_units))]
        if len(unit) > 1:
            continue
        first_request = unit[0]
        answers = json.loads(first_request.body)
        for _ in range(min(left, 1 + rng.randrange(3))):
            again = dict(answers, email=_retype(answers["email"].strip(), rng))
            unit.append(
                _Request(
                    json.dumps(again).encode(),
                    first_request.email_normalized,
                    None,
                    first_request.new_company,
                )
            )
            left -= 1
    units.extend(new_units)
    rng.shuffle(units)
    return [request for unit in units for request in unit], contacts


# The server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _proc_cpu_s(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU seconds of one process (0 when it is gone); with
    ``reaped_children``, plus those of its children that exited and were waited for: a
    PostgreSQL backend or a gunicorn worker that ends during a run still counts."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process we may read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        yield int(entry.name), ppid, name


def _machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


class Server:
    """Gunicorn with ``WORKERS`` sync workers on a free loopback port, as ``leadcycle serve``
    runs it (access log to stdout, here a file in the bench's work folder)."""

    def __init__(self, *, app: str, name: str, pythonpath: Path | None = None) -> None:
        self.app = app
        self.name = name
        self.pythonpath = pythonpath
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = Path(os.environ.get("LEADCYCLE_DATA_DIR", REPO / "var")) / f"{name}.log"

    def start(self) -> None:
        env = {
            **os.environ,
            # The harness already points these at the bench database (see bench.cli).
            "DJANGO_SETTINGS_MODULE": "leadcycle.settings",
            "DEBUG": "0",
            # form_submit queues no task; "db" is the default deployment's backend.
            "LEADCYCLE_TASKS": "db",
            "LEADCYCLE_INTAKE_RATE_LIMIT": str(RATE_LIMIT),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        for attempt in range(3):
            self.port = _free_port()
            argv = [sys.executable, "-m", "gunicorn", self.app,
                    "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
                    "--access-logfile", "-", "--graceful-timeout", "10"]  # fmt: skip
            if self.pythonpath:
                argv += ["--pythonpath", str(self.pythonpath)]
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            if self._wait_healthy(timeout=60):
                return
            self.stop()
            if attempt == 2:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name}: gunicorn did not come up:\n{tail}")

    def _wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode()
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=2) as s,
            ):
                s.sendall(request)
                # Both workers must be up before the clock starts.
                if s.recv(64).startswith(b"HTTP/1.1 200") and len(self.worker_pids()) >= WORKERS:
                    return True
            time.sleep(0.1)
        return False

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return [pid for pid, ppid, _ in _processes() if ppid == self.proc.pid]

    def cpu_s(self) -> float:
        """CPU seconds of the master and its workers so far."""
        if self.proc is None:
            return 0.0
        master = _proc_cpu_s(self.proc.pid, reaped_children=True)
        return master + sum(_proc_cpu_s(p) for p in self.worker_pids())

    def peak_rss_mb(self) -> float:
        """The largest resident-memory high-water mark among the workers."""
        peaks = [0.0]
        for pid in self.worker_pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def stop(self) -> None:
        """SIGTERM (gunicorn stops its workers gracefully), then SIGKILL to the process group
        this server was started in, if it is still there after 20 s."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# The load --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    sent: int = 0
    """Requests taken by clients (a prefix of the request list)."""
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    connections: int = 0
    wall_s: float = 0.0
    truncated: bool = False


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Status, whether the server closes the connection, and the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    close = lines[0].startswith(b"HTTP/1.0") or headers.get(b"connection", b"").lower() == b"close"
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body, close = await reader.read(), True
    return status, close, body


async def _load(
    port: int,
    path: str,
    bodies: list[bytes],
    clients: int,
    time_limit: float,
    backends: _BackendCpu,
) -> LoadResult:
    result = LoadResult()
    prefix = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: leadcycle-bench/1\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        "Connection: keep-alive\r\n"
    ).encode()
    requests = [prefix + b"Content-Length: %d\r\n\r\n" % len(b) + b for b in bodies]
    started = time.perf_counter()
    deadline = started + time_limit

    async def client() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while result.sent < len(requests):
            if time.perf_counter() > deadline:
                result.truncated = True
                break
            payload = requests[result.sent]
            result.sent += 1
            t0 = time.perf_counter()
            outcome = "no response"
            for attempt in range(2):
                fresh = writer is None
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                        result.connections += 1
                    assert reader is not None
                    writer.write(payload)
                    status, close, body = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    outcome = type(exc).__name__
                    if fresh or attempt:
                        break
                    continue  # a kept-alive connection closed while idle: once more, anew
                outcome = str(status)
                if status != 201 and len(result.error_samples) < 5:
                    result.error_samples.append(f"{status}: {body[:300].decode(errors='replace')}")
                if close:
                    writer.close()
                    reader = writer = None
                break
            result.latencies.append(time.perf_counter() - t0)
            result.statuses[outcome] += 1
        if writer is not None:
            writer.close()

    async def sampler() -> None:
        while True:
            await asyncio.sleep(0.5)
            backends.sample()

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(client() for _ in range(clients)))
    result.wall_s = time.perf_counter() - started
    sampling.cancel()
    return result


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of ascending values."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


def _cpu_self_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _BackendCpu:
    """CPU seconds spent by the PostgreSQL backends serving the bench database, sampled
    while the load runs: a backend that ends meanwhile (Django reconnects after
    ``CONN_MAX_AGE``) still counts up to its last sample, and other databases' backends on a
    shared server do not count at all."""

    def __init__(self) -> None:
        self.enabled = connection.vendor == "postgresql"
        self.database = str(connection.settings_dict.get("NAME") or "")
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = False

    def sample(self) -> None:
        if not self.enabled:
            return
        for pid, _, name in _processes():
            if name != "postgres":
                continue
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if f" {self.database} ".encode() not in title.replace(b"\0", b" "):
                continue
            cpu = _proc_cpu_s(pid)
            # A backend first seen after the start began during the run: all of it counts.
            self.first.setdefault(pid, cpu if not self.started else 0.0)
            self.last[pid] = cpu
        self.started = True

    def seconds(self) -> float | None:
        if not self.enabled:
            return None
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def run_load(server: Server, bodies: list[bytes], *, clients: int = CLIENTS) -> dict[str, Any]:
    """Send ``bodies`` with ``clients`` concurrent clients; latency, status and CPU figures."""
    path = f"/api/v1/public/forms/{SLUG}/submissions"
    backends = _BackendCpu()
    backends.sample()
    before = (_cpu_self_s(), server.cpu_s(), 0.0, _machine_busy_s())
    load = asyncio.run(_load(server.port, path, bodies, clients, TIME_LIMIT_S, backends))
    backends.sample()
    after = (_cpu_self_s(), server.cpu_s(), backends.seconds(), _machine_busy_s())
    wall = load.wall_s
    used = [None if a is None else a - b for a, b in zip(after, before, strict=True)]

    def cores(i: int) -> float | None:
        value = used[i]
        return None if value is None else round(value / wall, 2)

    def ms_each(i: int) -> float | None:
        value = used[i]
        return None if value is None or not load.sent else round(1000 * value / load.sent, 2)

    known = sum(v for v in used[:3] if v is not None)

    latencies = sorted(load.latencies)
    ms = [v * 1000 for v in latencies]
    per_s = load.sent / wall if wall else 0.0
    p99 = _percentile(ms, 0.99)
    return {
        "load": load,
        "details": {
            "submissions": load.sent,
            "clients": clients,
            "server": f"gunicorn {WORKERS} sync workers, access log on",
            "submissions_per_s": round(per_s, 1),
            "latency_ms": {
                "p50": round(_percentile(ms, 0.50), 1),
                "p95": round(_percentile(ms, 0.95), 1),
                "p99": round(p99, 1),
                "max": round(ms[-1], 1) if ms else 0.0,
                "mean": round(sum(ms) / len(ms), 1) if ms else 0.0,
            },
            "status_counts": dict(sorted(load.statuses.items())),
            "error_samples": load.error_samples,
            "connections_opened": load.connections,
            "truncated": load.truncated,
            # Cores busy on average during the load (of os.cpu_count()): the load generator
            # (this process), gunicorn (master and workers), the PostgreSQL backends of the
            # bench database (when the server is local), the whole machine, and what else ran
            # on it meanwhile (the machine less the three: other users' work, the kernel...).
            "cpu_cores": {
                "cpu_count": os.cpu_count(),
                "load_generator": cores(0),
                "server": cores(1),
                "postgres": cores(2),
                "machine": cores(3),
                "other": round((used[3] or 0.0) / wall - known / wall, 2) if wall else None,
            },
            # The same CPU per submission: what one submission costs, whatever else ran.
            "cpu_ms_per_submission": {
                "load_generator": ms_each(0),
                "server": ms_each(1),
                "postgres": ms_each(2),
            },
            "server_peak_rss_mb": round(server.peak_rss_mb(), 1),
            "target": {
                "submissions_per_s": TARGET_PER_S,
                "p99_ms": TARGET_P99_MS,
                "met": per_s >= TARGET_PER_S and p99 < TARGET_P99_MS,
            },
        },
    }


# The workload ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Marks:
    """Highest ids before a run: everything above was written by it."""

    account: int
    contact: int
    lead: int
    interaction: int
    submission: int
    match_key: int
    audit: int


_MARKED_TABLES = {
    "account": "crm_account",
    "contact": "crm_contact",
    "lead": "crm_lead",
    "interaction": "crm_interaction",
    "submission": "intake_formsubmission",
    "match_key": "intake_matchkey",
    "audit": "audit_auditentry",
}


def _scalar(query: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchone()[0]


@register
class IntakeHttp(Workload):
    """Form submissions through ``POST /api/v1/public/forms/<slug>/submissions``."""

    name = "intake_http"
    description = (
        "POST /api/v1/public/forms/<slug>/submissions on gunicorn (2 sync workers), 50 "
        "concurrent clients; half re-type an existing contact's email, 4 % race a new person"
    )
    tables = (
        "crm_account",
        "crm_contact",
        "crm_lead",
        "crm_interaction",
        "intake_formsubmission",
        "intake_matchkey",
        "intake_ratebucket",
        "audit_auditentry",
    )

    form: MarketingForm
    requests: list[_Request]
    existing: dict[int, tuple[Any, ...]]
    marks: _Marks
    server: Server | None = None
    last_load: LoadResult | None = None

    def setup(self, ctx: Context) -> None:
        settings = IntakeSettings.objects.get()
        assert settings.default_contact_strategy and settings.default_lead_strategy
        self.form = MarketingForm.objects.create(
            name="Bench intake form",
            slug=SLUG,
            title="Tell us about you",
            lead_topic="Bench intake interest",
            campaign="Bench intake campaign",
            contact_strategy=settings.default_contact_strategy,
            lead_strategy=settings.default_lead_strategy,
        )
        fields = [
            ("email", "Email", FormField.Kind.EMAIL, True, "contact.email"),
            ("first_name", "First name", FormField.Kind.TEXT, False, "contact.first_name"),
            ("last_name", "Last name", FormField.Kind.TEXT, False, "contact.last_name"),
            ("company", "Company", FormField.Kind.TEXT, False, "account.name"),
        ]
        FormField.objects.bulk_create(
            FormField(
                form=self.form,
                key=key,
                label=label,
                kind=kind,
                required=required,
                maps_to=maps_to,
                position=position,
            )
            for position, (key, label, kind, required, maps_to) in enumerate(fields)
        )
        n = SUBMISSIONS.get(ctx.scale.name, ctx.scale.workload_rows // 2)
        self.requests, self.existing = build_requests(
            n=n,
            seed=ctx.seed,
            max_contact_id=ctx.dataset.max_ids["contact"],
            max_account_id=ctx.dataset.max_ids["account"],
        )
        self.marks = _Marks(
            **{
                key: _scalar(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
                for key, table in _MARKED_TABLES.items()
            }
        )
        self.server = Server(app="leadcycle.wsgi:application", name="intake_http-ours")
        try:
            self._start(self.server)
        except BaseException:
            self.teardown(ctx)
            raise

    def _start(self, server: Server) -> None:
        """Start ``server`` and warm it up (imports, URL resolver, database connections) with
        throwaway submissions, then undo them."""
        server.start()
        warmup = [
            json.dumps({"email": f"warmup{k}@bench.example", "first_name": "Warm"}).encode()
            for k in range(8 * WORKERS)
        ]
        run_load(server, warmup, clients=WORKERS * 2)
        self._undo()

    def run(self, ctx: Context) -> Outcome:
        assert self.server is not None
        measured = run_load(self.server, [r.body for r in self.requests])
        self.last_load = measured["load"]
        return Outcome(rows=measured["load"].sent, details=measured["details"])

    def baselines(self, ctx: Context) -> list[Baseline]:
        # Called once, untimed, after our runs: swap servers so only one runs at a time.
        if self.server is not None:
            self.server.stop()
        self.server = Server(
            app="intake_http_sql:application",
            name="intake_http-baseline",
            pythonpath=Path(__file__).resolve().parent,
        )
        self._start(self.server)
        return [Baseline(f"{ctx.engine.name}: hand-written SQL, bare WSGI app", self.run)]

    def observe(self, ctx: Context) -> Facts:
        m = self.marks
        load = self.last_load
        origin_ref = self.form.origin_ref
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT s."values", c.email_normalized, s.contact_id, l.parent_contact_id'
                " FROM intake_formsubmission s"
                " LEFT JOIN crm_contact c ON c.id = s.contact_id"
                " LEFT JOIN crm_lead l ON l.id = s.lead_id WHERE s.id > %s",
                [m.submission],
            )
            mislinked = 0
            for values, email_normalized, contact_id, lead_contact_id in cursor.fetchall():
                if isinstance(values, str):  # SQLite hands JSON back as text
                    values = json.loads(values)
                if (
                    normalize_email(values.get("email")) != email_normalized
                    or lead_contact_id != contact_id
                ):
                    mislinked += 1
            cursor.execute(
                "SELECT record_type, count(*) FROM audit_auditentry"
                " WHERE id > %s AND action = 'create' GROUP BY record_type ORDER BY record_type",
                [m.audit],
            )
            audit_creates = dict(cursor.fetchall())
        return {
            "statuses": dict(sorted(load.statuses.items())) if load else {},
            "submissions": _scalar(
                "SELECT count(*) FROM intake_formsubmission WHERE id > %s AND status = 'accepted'",
                [m.submission],
            ),
            "submissions_mislinked": mislinked,
            "interactions": _scalar(
                "SELECT count(*) FROM crm_interaction WHERE id > %s AND kind = 'form_submitted'",
                [m.interaction],
            ),
            "contacts_created": _scalar(
                "SELECT count(*) FROM crm_contact WHERE id > %s", [m.contact]
            ),
            "accounts_created": _scalar(
                "SELECT count(*) FROM crm_account WHERE id > %s", [m.account]
            ),
            "leads_created": _scalar("SELECT count(*) FROM crm_lead WHERE id > %s", [m.lead]),
            "leads_to_existing": _scalar(
                "SELECT count(*) FROM crm_lead WHERE id > %s AND parent_contact_id <= %s",
                [m.lead, m.contact],
            ),
            # Another contact with the same address, whatever email_normalized says.
            "duplicate_contacts": _scalar(
                "SELECT count(*) FROM crm_contact n WHERE n.id > %s AND ("
                " n.email_normalized <> lower(trim(n.email)) OR EXISTS ("
                "  SELECT 1 FROM crm_contact c"
                "  WHERE c.email_normalized = lower(trim(n.email)) AND c.id <> n.id))",
                [m.contact],
            ),
            # Open leads of this form beyond the first, per contact.
            "duplicate_open_leads": int(
                _scalar(
                    "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM crm_lead"
                    " WHERE origin_ref = %s AND status = 'open' AND parent_contact_id IS NOT NULL"
                    " GROUP BY parent_contact_id HAVING count(*) > 1) d",
                    [origin_ref],
                )
            ),
            # Accounts the run created whose name (ignoring case) another account has.
            "duplicate_accounts": _scalar(
                "SELECT count(*) FROM crm_account n JOIN (SELECT upper(name) AS u"
                " FROM crm_account GROUP BY upper(name) HAVING count(*) > 1) d"
                " ON d.u = upper(n.name) WHERE n.id > %s",
                [m.account],
            ),
            "audit_creates": audit_creates,
        }

    def restore(self, ctx: Context) -> None:
        self._undo()

    def _undo(self) -> None:
        m = self.marks
        with transaction.atomic(), connection.cursor() as cursor:
            delete_lead_dependents_above(cursor, m.lead)
            for key in ("interaction", "submission", "match_key", "audit", "lead", "contact",
                        "account"):  # fmt: skip
                table = _MARKED_TABLES[key]
                cursor.execute(f"DELETE FROM {table} WHERE id > %s", [getattr(m, key)])  # noqa: S608
            cursor.execute(
                'DELETE FROM intake_ratebucket WHERE "key" LIKE %s', [f"form:{self.form.pk}:%"]
            )
            cursor.executemany(
                "UPDATE crm_contact SET email = %s, email_normalized = %s, first_name = %s,"
                " last_name = %s, account_id = %s, consent = %s, updated_at = %s WHERE id = %s",
                [
                    (email, normalize_email(email), first, last, account, consent, updated, cid)
                    for cid, email, first, last, account, consent, updated, _ in
                    self.existing.values()
                ],
            )  # fmt: skip

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        load = self.last_load
        sent = self.requests[: load.sent if load else len(self.requests)]
        new_people = {r.email_normalized for r in sent if r.existing_id is None}
        existing_people = {r.existing_id for r in sent if r.existing_id is not None}
        new_companies = {r.new_company for r in sent if r.new_company}

        def check(fact: str, expected: Any) -> Check:
            if baseline is None:
                return Check(expected=expected, ours=ours[fact])
            return Check(expected=expected, ours=ours[fact], baseline=baseline[fact])

        return {
            "all_201": check("statuses", {"201": len(sent)}),
            "duplicate_contacts": check("duplicate_contacts", 0),
            "duplicate_open_leads": check("duplicate_open_leads", 0),
            "duplicate_accounts": check("duplicate_accounts", 0),
            "contacts_created": check("contacts_created", len(new_people)),
            "accounts_created": check("accounts_created", len(new_companies)),
            "leads_created": check("leads_created", len(new_people) + len(existing_people)),
            "leads_linked_to_existing": check("leads_to_existing", len(existing_people)),
            "submissions_stored": check("submissions", len(sent)),
            "submissions_mislinked": check("submissions_mislinked", 0),
            "interactions": check("interactions", len(sent)),
            "audit_creates": check(
                "audit_creates",
                {
                    name: count
                    for name, count in (
                        ("crm.account", len(new_companies)),
                        ("crm.contact", len(new_people)),
                        ("crm.lead", len(new_people) + len(existing_people)),
                    )
                    if count
                },
            ),
        }

    def teardown(self, ctx: Context) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        MarketingForm.objects.filter(slug=SLUG).delete()
