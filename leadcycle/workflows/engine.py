"""Running workflows, set-based: ``fire(workflow, events)`` takes (record id, event) pairs, keeps
the records the conditions hold for (one SQL statement per chunk), inserts one run per pair
that has none yet (``ON CONFLICT DO NOTHING`` on (workflow, record, event): a replayed event
runs nothing), and applies each action to the chunk's new runs at once.

Changes made by actions are audited with a ``via workflow`` entry in the changes; the
dispatcher skips such entries, so a workflow's own change never triggers workflows (no loops).
An action that fails for a chunk is retried record by record, each in its own savepoint: a bad
record fails its run alone.
"""

import datetime
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.utils import timezone

from leadcycle import expressions
from leadcycle.bulk import insert_rows, update_rows
from leadcycle.changes import records_changed
from leadcycle.crm.models import Account, Contact, Lead, Task
from leadcycle.crm.services import tasks_insert
from leadcycle.workflows.catalog import parsed_conditions
from leadcycle.workflows.models import WebhookDelivery, Workflow, WorkflowRun

log = logging.getLogger(__name__)
CHUNK = 5_000  # records per transaction: runs, actions and outcomes
MODELS: dict[str, type[Lead] | type[Contact] | type[Account]] = {
    "lead": Lead,
    "contact": Contact,
    "account": Account,
}
VIA = "via workflow"


class Batch(NamedTuple):
    """The records of one chunk's new runs, as every action receives them."""

    workflow: Workflow
    ids: list[int]
    now: datetime.datetime
    run_of: dict[int, int]  # record id → its run's id


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def matching(workflow: Workflow, ids: Iterable[int]) -> set[int]:
    """The records among ``ids`` the workflow's conditions hold for: one statement."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    model = MODELS[workflow.entity]
    sql = [f"t.id IN ({', '.join(['%s'] * len(ids))})"]
    params: list[Any] = list(ids)
    for expression in parsed_conditions(workflow.entity, workflow.conditions):
        condition, values = expressions.compile_sql(expression, "t")
        sql.append(f"({condition})")
        params += values
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        where = " AND ".join(sql)
        cursor.execute(f"SELECT t.id FROM {table} t WHERE {where}", params)  # noqa: S608 - compiled, values as parameters
        return {row[0] for row in cursor.fetchall()}


def fire(workflow: Workflow, events: Sequence[tuple[int, str]]) -> int:
    """Run the workflow for these (record id, event) pairs; returns how many runs were new."""
    new = 0
    for chunk in _chunks(list(events)):
        with transaction.atomic():
            held = matching(workflow, [record for record, _ in chunk])
            now = timezone.now()
            created = insert_rows(
                WorkflowRun,
                [
                    {
                        "workflow_id": workflow.pk,
                        "record_id": record,
                        "event": event[:100],
                        "status": "done",
                        "detail": "",
                        "created_at": now,
                    }
                    for record, event in chunk
                    if record in held
                ],
                columns=("workflow_id", "record_id", "event", "status", "detail", "created_at"),
                skip_conflicts_on="*",
                returning=("id", "record_id"),
            )
            if created:
                _run_actions(workflow, [(int(pk), int(record)) for pk, record in created], now)
                new += len(created)
    return new


def _run_actions(workflow: Workflow, runs: list[tuple[int, int]], now: datetime.datetime) -> None:
    details: dict[int, list[str]] = {pk: [] for pk, _ in runs}
    failed: dict[int, str] = {}
    try:
        with transaction.atomic():
            _apply_all(workflow, runs, details, now)
    except Exception:
        log.info("workflow %s: a chunk failed, retrying record by record", workflow.pk)
        for run in runs:
            details[run[0]] = []
            try:
                with transaction.atomic():
                    _apply_all(workflow, [run], details, now)
            except Exception as exc:  # the run records the error; its neighbours go on
                failed[run[0]] = f"{type(exc).__name__}: {exc}"[:2_000]
    # One statement writes every run's outcome.
    outcome: dict[int, tuple[str, str]] = {}
    for pk, lines in details.items():
        if pk in failed:
            outcome[pk] = ("failed", failed[pk])
        elif lines and all(line == "skipped" for line in lines):
            outcome[pk] = ("skipped", "nothing to do")
        else:
            outcome[pk] = ("done", "; ".join(line for line in lines if line != "skipped")[:2_000])
    update_rows(
        WorkflowRun,
        [
            {"id": pk, "status": status, "detail": detail}
            for pk, (status, detail) in outcome.items()
        ],
        columns=("status", "detail"),
    )


def _apply_all(
    workflow: Workflow,
    runs: list[tuple[int, int]],
    details: dict[int, list[str]],
    now: datetime.datetime,
) -> None:
    ids = [record for _, record in runs]
    run_of = {record: pk for pk, record in runs}
    for action in workflow.actions:
        kind = action["type"]
        done = ACTIONS[kind](Batch(workflow, ids, now, run_of), action)
        for record, line in done.items():
            details[run_of[record]].append(line)


# Actions: each takes the records of new runs and returns a line per record it did something for.


def _audit(
    workflow: Workflow,
    record_type: str,
    rows: list[tuple[int, str, dict[str, Any]]],
    now: datetime.datetime,
) -> None:
    from leadcycle.audit.models import AuditEntry

    insert_rows(
        AuditEntry,
        [
            {
                "actor_id": None,
                "action": action,
                "record_type": record_type,
                "record_id": pk,
                "record_repr": f"{record_type.split('.')[1].title()} {pk}",
                "at": now,
                "changes": {**changes, VIA: [None, workflow.name]},
            }
            for pk, action, changes in rows
        ],
        columns=("actor_id", "action", "record_type", "record_id", "record_repr", "changes", "at"),
    )


def _targets(workflow: Workflow, on: str, ids: list[int]) -> dict[int, int]:
    """record id → id of the record an action writes to (itself, or a lead's parent)."""
    if on == "record":
        return {pk: pk for pk in ids}
    column = "parent_contact_id" if on == "parent_contact" else "parent_account_id"
    return {
        pk: target
        for pk, target in Lead.objects.filter(
            pk__in=ids, **{f"{column}__isnull": False}
        ).values_list("id", column)
    }


def set_fields(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now = batch.workflow, batch.ids, batch.now
    on = action.get("on", "record")
    target_type = {
        "record": workflow.entity,
        "parent_contact": "contact",
        "parent_account": "account",
    }[on]
    model = MODELS[target_type]
    targets = _targets(workflow, on, ids)
    values = {("owner_id" if k == "owner" else k): v for k, v in action["values"].items()}
    kept: dict[int, str] = {}
    if target_type == "lead" and "owner_id" in values and values["owner_id"] is None:
        # The process's rule holds here too: a lead accepted for sales keeps its owner.
        from leadcycle.process.models import ProcessInstance

        accepted = set(
            ProcessInstance.objects.filter(
                lead_id__in=list(targets.values()), active=True, values__sales_accepted=True
            ).values_list("lead_id", flat=True)
        )
        kept = {r: "skipped" for r, t in targets.items() if t in accepted}
        targets = {r: t for r, t in targets.items() if t not in accepted}
    columns = list(values)
    before = {
        row[0]: dict(zip(columns, row[1:], strict=True))
        for row in model.objects.filter(pk__in=set(targets.values())).values_list("id", *columns)
    }
    changed = {
        pk: {c.removesuffix("_id"): [old[c], values[c]] for c in columns if old[c] != values[c]}
        for pk, old in before.items()
    }
    changed = {pk: diff for pk, diff in changed.items() if diff}
    if changed:
        model.objects.filter(pk__in=list(changed)).update(**values, updated_at=now)
        _audit(
            workflow, f"crm.{target_type}", [(pk, "update", d) for pk, d in changed.items()], now
        )
        records_changed(**{f"{target_type}_ids": list(changed)})  # type: ignore[arg-type]
    label = ", ".join(f"{k}={v}" for k, v in action["values"].items())
    return {
        **kept,
        **{
            record: (f"set {label}" if target in changed else f"{label} already")
            for record, target in targets.items()
        },
    }


def create_task(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now = batch.workflow, batch.ids, batch.now
    links: dict[int, tuple[int | None, int | None]]
    if workflow.entity == "lead":
        links = {
            pk: (pk, contact)
            for pk, contact in Lead.objects.filter(pk__in=ids).values_list(
                "id", "parent_contact_id"
            )
        }
    elif workflow.entity == "contact":
        links = {pk: (None, pk) for pk in ids}
    else:
        links = {pk: (None, None) for pk in ids}
    queue = action.get("queue", "")
    kind = Task.Kind.CALL if queue == "telemarketing" else Task.Kind.FOLLOW_UP
    tasks_insert(
        [
            {
                "kind": kind,
                "subject": action["subject"][:200],
                "lead_id": lead,
                "contact_id": contact,
                "assignee_id": action.get("assignee_id"),
                "queue": queue,
                "due_at": now + datetime.timedelta(days=action.get("due_in_days", 1)),
                "done": False,
                "done_at": None,
                "owner_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for lead, contact in links.values()
        ],
    )
    return {pk: f"task “{action['subject']}”" for pk in links}


def _record_urls(entity: str, ids: Iterable[int]) -> dict[int, str]:
    from django.urls import reverse

    return {pk: reverse(f"crm:{entity}_detail", args=[pk]) for pk in ids}


def notify(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now, run_of = batch.workflow, batch.ids, batch.now, batch.run_of
    from leadcycle.notifications.models import Notification

    user = User.objects.filter(pk=action["user_id"], is_active=True).first()
    if user is None:
        return {pk: "skipped" for pk in ids}
    urls = _record_urls(workflow.entity, ids)
    message = action["message"]
    insert_rows(
        Notification,
        [
            {
                "user_id": user.pk,
                "message": f"{message} ({workflow.entity} {pk})"[:300],
                "url": urls[pk],
                "source": f"workflow_run:{run_of[pk]}",
                "created_at": now,
                "read_at": None,
            }
            for pk in ids
        ],
        columns=("user_id", "message", "url", "source", "created_at", "read_at"),
        skip_conflicts_on="*",
    )
    if action.get("email") and user.email:
        mails = [
            (
                f"[Leadcycle] {message}"[:150],
                f"{message}\n\n{workflow.entity.title()} {pk}: {urls[pk]}\n\nWorkflow: {workflow}",
                None,
                [user.email],
            )
            for pk in ids
        ]
        # robust: a mail server's refusal never stops the callbacks after it
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True), robust=True)
    return {pk: f"notified {user.username}" for pk in ids}


def advance_stage(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids = batch.workflow, batch.ids
    from leadcycle.process.services import leads_move_to_stage

    moved = leads_move_to_stage(ids, action["stage"], reason=f"workflow: {workflow.name}")
    return {pk: (f"moved to {action['stage']}" if pk in moved else "skipped") for pk in ids}


def _contacts_of(workflow: Workflow, ids: list[int]) -> dict[int, int]:
    return (
        _targets(workflow, "parent_contact", ids)
        if workflow.entity == "lead"
        else {pk: pk for pk in ids}
    )


def add_to_segment(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids = batch.workflow, batch.ids
    from leadcycle.segments.models import Segment
    from leadcycle.segments.services import segment_members_add, segment_members_remove

    segment = Segment.objects.get(pk=action["segment_id"])
    contacts = _contacts_of(workflow, ids)
    if action["type"] == "add_to_segment":
        segment_members_add(segment=segment, by=None, contact_ids=set(contacts.values()))
        verb = "added to"
    else:
        segment_members_remove(segment=segment, by=None, contact_ids=set(contacts.values()))
        verb = "removed from"
    return {pk: f"{verb} {segment.name}" for pk in contacts}


def webhook(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now, run_of = batch.workflow, batch.ids, batch.now, batch.run_of
    model = MODELS[workflow.entity]
    records = {row["id"]: row for row in model.objects.filter(pk__in=ids).values()}
    events = dict(WorkflowRun.objects.filter(pk__in=run_of.values()).values_list("id", "event"))
    rows = []
    for pk in ids:
        body = json.dumps(
            {
                "workflow": {"id": workflow.pk, "name": workflow.name},
                "run_id": run_of[pk],
                "event": events.get(run_of[pk], ""),
                "sent_at": now.isoformat(),
                "record": {"type": workflow.entity, **records.get(pk, {"id": pk})},
            },
            default=str,
            sort_keys=True,
        )
        digest = hmac.new(action["secret"].encode(), body.encode(), hashlib.sha256).hexdigest()
        rows.append(
            {
                "run_id": run_of[pk],
                "url": action["url"],
                "body": body,
                "signature": f"sha256={digest}",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "response_status": None,
                "created_at": now,
                "delivered_at": None,
            }
        )
    created = insert_rows(
        WebhookDelivery, rows, columns=tuple(rows[0]) if rows else (), returning=("id",)
    )
    delivery_ids = [row[0] for row in created]

    def send() -> None:
        from leadcycle.workflows.tasks import deliver_webhooks

        deliver_webhooks.enqueue(delivery_ids)  # one task per chunk, not per record

    transaction.on_commit(send)
    return {pk: f"webhook queued to {action['url']}" for pk in ids}


def link_parent_contact(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now = batch.workflow, batch.ids, batch.now
    from leadcycle.workflows.orphans import orphans_link

    return orphans_link(ids, now=now, workflow=workflow)


def create_lead(batch: Batch, action: dict[str, Any]) -> dict[int, str]:
    workflow, ids, now = batch.workflow, batch.ids, batch.now
    accounts = dict(Contact.objects.filter(pk__in=ids).values_list("id", "account_id"))
    created = insert_rows(
        Lead,
        [
            {
                "topic": action["topic"][:200],
                "source_channel": "api",
                "origin_ref": "",
                "campaign": "",
                "parent_contact_id": pk,
                "parent_account_id": accounts.get(pk),
                "status": "open",
                "status_reason": "",
                "sales_ready": False,
                "telemarketing_ready": False,
                "description": f"Created by workflow “{workflow}”.",
                "owner_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for pk in accounts
        ],
        columns=(
            "topic",
            "source_channel",
            "origin_ref",
            "campaign",
            "parent_contact_id",
            "parent_account_id",
            "status",
            "status_reason",
            "sales_ready",
            "telemarketing_ready",
            "description",
            "owner_id",
            "created_at",
            "updated_at",
        ),
        returning=("id", "parent_contact_id"),
    )
    _audit(
        workflow,
        "crm.lead",
        [
            (pk, "create", {"topic": [None, action["topic"]], "parent_contact": [None, contact]})
            for pk, contact in created
        ],
        now,
    )
    records_changed(lead_ids=[pk for pk, _ in created])
    return {contact: f"lead {pk} created" for pk, contact in created}


ACTIONS = {
    "set_fields": set_fields,
    "create_task": create_task,
    "notify": notify,
    "advance_stage": advance_stage,
    "add_to_segment": add_to_segment,
    "remove_from_segment": add_to_segment,
    "webhook": webhook,
    "link_parent_contact": link_parent_contact,
    "create_lead": create_lead,
}
