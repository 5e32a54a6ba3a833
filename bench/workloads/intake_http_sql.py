"""Baseline server of the ``intake_http`` workload: the same form submission written with
hand-written SQL behind a bare WSGI callable, served by the same gunicorn (2 sync workers).

Gunicorn loads this file as a top-level module (``--pythonpath bench/workloads
intake_http_sql:application``): importing it through the ``bench.workloads`` package would
import every workload, and with them Django models, before Django is set up. So it imports
nothing from ``bench``.

What it does per request, in the order the app does it:

1. one query for the live form and its fields (the app: form, strategies and fields);
2. the rate-limit upsert the app runs, on the same row (all load comes from one address);
3. one transaction (``BEGIN IMMEDIATE`` on SQLite, as the app's settings say):
   - the account by case-insensitive name, or a new one (PostgreSQL: under a transaction
     advisory lock on the name, so two submissions of one new company make one account);
   - the contact by ``email_normalized`` locked ``FOR UPDATE`` (PostgreSQL), updated when the
     submitted values differ; or inserted with ``ON CONFLICT (email_normalized) DO NOTHING``,
     and when a concurrent submission won, locked and updated like an existing one. The row
     lock serialises submissions of one person, which makes the lead lookup below race-free;
   - the open lead of this contact and form, or a new one;
   - the accepted submission and its ``form_submitted`` interaction;
   - an audit entry for every created or changed contact, account and lead, with the same
     keys the app writes.

Connections follow the app's ``CONN_MAX_AGE`` the way Django's request handler does
(``close_old_connections`` before and after each request): on SQLite a connection per request.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcycle.settings")
django.setup()

from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

PREFIX = "/api/v1/public/forms/"
SUFFIX = "/submissions"
MAX_BODY = 64 * 1024
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

FORM_SQL = (
    "SELECT f.id, f.name, f.campaign, f.lead_topic, f.thank_you_message, f.redirect_url,"
    " ff.key, ff.maps_to, ff.required"
    " FROM intake_marketingform f JOIN intake_formfield ff ON ff.form_id = f.id"
    " WHERE f.slug = %s AND f.is_live ORDER BY ff.position, ff.id"
)
RATE_SQL = (
    'INSERT INTO intake_ratebucket ("key", "window", "hits") VALUES (%s, %s, 1)'
    ' ON CONFLICT ("key", "window") DO UPDATE SET "hits" = intake_ratebucket."hits" + 1'
    ' RETURNING "hits"'
)
ACCOUNT_FIND = "SELECT id FROM crm_account WHERE upper(name) = upper(%s) ORDER BY id LIMIT 1"
ACCOUNT_INSERT = (
    "INSERT INTO crm_account (name, web_domain, industry, employees, annual_revenue, country,"
    " owner_id, created_at, updated_at) VALUES (%s, '', '', NULL, NULL, '', NULL, %s, %s)"
    " RETURNING id"
)
CONTACT_FIND = (
    "SELECT id, email, first_name, last_name, account_id FROM crm_contact"
    " WHERE email_normalized = %s"
)
CONTACT_INSERT = (
    "INSERT INTO crm_contact (email, email_normalized, first_name, last_name, job_title, role,"
    " phone, country, account_id, marketing_only, consent, origin_channel, owner_id,"
    " created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, '', 'other', '', '', %s, %s, 'unknown', 'form', NULL, %s, %s)"
    " ON CONFLICT (email_normalized) DO NOTHING RETURNING id"
)
LEAD_FIND = (
    "SELECT id FROM crm_lead WHERE parent_contact_id = %s AND origin_ref = %s"
    " AND status = 'open' ORDER BY id LIMIT 1"
)
LEAD_INSERT = (
    "INSERT INTO crm_lead (topic, source_channel, origin_ref, campaign, parent_contact_id,"
    " parent_account_id, status, sales_ready, telemarketing_ready, description, owner_id,"
    " created_at, updated_at)"
    " VALUES (%s, 'form', %s, %s, %s, %s, 'open', %s, %s, '', NULL, %s, %s) RETURNING id"
)
SUBMISSION_INSERT = (
    'INSERT INTO intake_formsubmission (form_id, status, "values", errors, contact_id,'
    " lead_id, contact_action, lead_action, possible_duplicates, idempotency_key, channel,"
    " client_ip, user_agent, created_at)"
    " VALUES (%s, 'accepted', %s, '{}', %s, %s, %s, %s, '[]', '', 'api', %s, %s, %s)"
    " RETURNING id"
)
INTERACTION_INSERT = (
    "INSERT INTO crm_interaction (kind, occurred_at, contact_id, lead_id, campaign, attributes,"
    " created_at) VALUES ('form_submitted', %s, %s, %s, %s, %s, %s)"
)
AUDIT_INSERT = (
    "INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr,"
    " changes, at) VALUES (NULL, %s, %s, %s, %s, %s, %s)"
)


def _json_response(
    start_response: StartResponse, status: str, body: dict[str, Any]
) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _error(start_response: StartResponse, status: str, code: str, message: str) -> Iterable[bytes]:
    return _json_response(
        start_response, status, {"error": {"code": code, "message": message, "fields": {}}}
    )


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    close_old_connections()
    try:
        return _handle(environ, start_response)
    finally:
        close_old_connections()


def _handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    if (
        environ.get("REQUEST_METHOD") != "POST"
        or not path.startswith(PREFIX)
        or not path.endswith(SUFFIX)
    ):
        return _error(start_response, "404 Not Found", "not_found", "Not found.")
    slug = path[len(PREFIX) : -len(SUFFIX)]
    with connection.cursor() as cursor:
        cursor.execute(FORM_SQL, [slug])
        rows = cursor.fetchall()
    if not rows:
        return _error(start_response, "404 Not Found", "form_not_found", "No live form.")
    form_id, form_name, campaign, topic, thanks, redirect_url = rows[0][:6]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        return _error(start_response, "413 Request Entity Too Large", "too_large", "Too large.")
    ip = str(environ.get("REMOTE_ADDR", ""))
    window = int(time.time()) // 60 * 60
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RATE_SQL, [f"form:{form_id}:{ip}"[:100], window])
        cursor.fetchone()  # the limit is set far above the load; nothing is refused
    try:
        raw = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _error(start_response, "400 Bad Request", "invalid_json", "Not JSON.")
    if not isinstance(raw, dict):
        return _error(start_response, "422 Unprocessable Entity", "validation_error", "Object.")
    values: dict[str, str] = {}
    for _, _, _, _, _, _, key, maps_to, required in rows:
        value = raw.get(key)
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                return _error(start_response, "422 Unprocessable Entity", "validation_error", key)
            continue
        values[maps_to or f"answers.{key}"] = text
    email = values.get("contact.email", "")
    if "@" not in email:
        return _error(start_response, "422 Unprocessable Entity", "validation_error", "email")
    submission_id = _apply(
        form_id=form_id,
        form_name=form_name,
        campaign=campaign,
        topic=topic,
        values=values,
        raw=raw,
        ip=ip,
        user_agent=str(environ.get("HTTP_USER_AGENT", ""))[:300],
    )
    body = {
        "submission_id": submission_id,
        "status": "accepted",
        "message": thanks,
        "redirect_url": redirect_url or None,
    }
    return _json_response(start_response, "201 Created", body)


def _audit(cursor: Any, action: str, record_type: str, record_id: int, text: str,
           changes: dict[str, Any], at: Any) -> None:  # fmt: skip
    params = [action, record_type, record_id, text[:200], json.dumps(changes), at]
    cursor.execute(AUDIT_INSERT, params)


def _created(**fields: Any) -> dict[str, Any]:
    """The changes of a ``create`` audit entry: every audited field, from nothing."""
    return {name: [None, value] for name, value in sorted(fields.items())}


def _apply(
    *,
    form_id: int,
    form_name: str,
    campaign: str,
    topic: str,
    values: dict[str, str],
    raw: dict[str, Any],
    ip: str,
    user_agent: str,
) -> int:
    postgres = connection.vendor == "postgresql"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    email = values["contact.email"]
    email_normalized = email.casefold()  # ASCII input, already trimmed
    first = values.get("contact.first_name", "")
    last = values.get("contact.last_name", "")
    company = " ".join(values.get("account.name", "").split())
    origin_ref = f"form:{form_id}"
    with transaction.atomic(), connection.cursor() as cursor:
        account_id = None
        if company:
            cursor.execute(ACCOUNT_FIND, [company])
            row = cursor.fetchone()
            if row is None and postgres:
                # Two submissions naming one new company must make one account.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(upper(%s)))", [company])
                cursor.execute(ACCOUNT_FIND, [company])
                row = cursor.fetchone()
            if row is None:
                cursor.execute(ACCOUNT_INSERT, [company, now, now])
                (account_id,) = cursor.fetchone()
                created = _created(name=company, web_domain="", industry="", employees=None,
                                   annual_revenue=None, country="", owner=None)  # fmt: skip
                _audit(cursor, "create", "crm.account", account_id, company, created, now)
            else:
                (account_id,) = row
        find = CONTACT_FIND + (" FOR UPDATE" if postgres else "")
        cursor.execute(find, [email_normalized])
        found = cursor.fetchone()
        contact_action = "created"
        if found is None:
            cursor.execute(
                CONTACT_INSERT,
                [email, email_normalized, first, last, account_id, False, now, now],
            )
            inserted = cursor.fetchone()
            if inserted is None:  # a concurrent submission created this person first
                cursor.execute(find, [email_normalized])
                found = cursor.fetchone()
            else:
                (contact_id,) = inserted
                contact_account = account_id
                created = _created(email=email, email_normalized=email_normalized,
                                   first_name=first, last_name=last, job_title="", role="other",
                                   phone="", country="", account=account_id,
                                   marketing_only=False, consent="unknown",
                                   origin_channel="form", owner=None)  # fmt: skip
                name = f"{first} {last}".strip() or email
                _audit(cursor, "create", "crm.contact", contact_id, name, created, now)
        if found is not None:
            contact_id, old_email, old_first, old_last, contact_account = found
            # Found by email_normalized: the email differs at most in case, which the app
            # does not count as a change (the contact keeps the address as it has it).
            new = {"first_name": first or old_first, "last_name": last or old_last}
            old = {"first_name": old_first, "last_name": old_last}
            changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
            if contact_account is None and account_id is not None:
                changes["account"] = [None, account_id]
                contact_account = account_id
            if changes:
                cursor.execute(
                    "UPDATE crm_contact SET first_name = %s, last_name = %s, account_id = %s,"
                    " updated_at = %s WHERE id = %s",
                    [new["first_name"], new["last_name"], contact_account, now, contact_id],
                )
                name = f"{new['first_name']} {new['last_name']}".strip() or old_email
                _audit(cursor, "update", "crm.contact", contact_id, name, changes, now)
                contact_action = "updated"
            else:
                contact_action = "matched"
        cursor.execute(LEAD_FIND, [contact_id, origin_ref])
        row = cursor.fetchone()
        if row is None:
            parent_account = contact_account or account_id
            cursor.execute(
                LEAD_INSERT,
                [topic, origin_ref, campaign, contact_id, parent_account, False, False, now, now],
            )
            (lead_id,) = cursor.fetchone()
            lead_action = "created"
            created = _created(topic=topic, source_channel="form", origin_ref=origin_ref,
                               campaign=campaign, parent_contact=contact_id,
                               parent_account=parent_account, status="open", sales_ready=False,
                               telemarketing_ready=False, description="", owner=None)  # fmt: skip
            _audit(cursor, "create", "crm.lead", lead_id, topic, created, now)
        else:
            (lead_id,) = row
            lead_action = "matched"
        cursor.execute(
            SUBMISSION_INSERT,
            [form_id, json.dumps(raw), contact_id, lead_id, contact_action, lead_action, ip,
             user_agent, now],
        )  # fmt: skip
        (submission_id,) = cursor.fetchone()
        attributes = {"form_id": form_id, "form": form_name, "submission_id": submission_id}
        cursor.execute(
            INTERACTION_INSERT,
            [now, contact_id, lead_id, campaign[:200], json.dumps(attributes), now],
        )
    return int(submission_id)
