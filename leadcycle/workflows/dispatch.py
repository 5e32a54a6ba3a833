"""From what happened to workflow runs. Receivers of the app's signals (all sent after commit)
turn changes into (record, event) pairs for the enabled workflows whose trigger matches, and
``engine.fire`` runs them. Event keys make runs idempotent:

- created / updated / field changed: the audit entry (``audit:<id>``) of the change, read for
  the committed records' ids; entries written by a workflow's own actions are skipped;
- interaction recorded: ``interaction:<id>``; score crossed: ``score:<threshold>`` (once per
  lead and threshold); stage entered: ``stage:<stage id>:<when>``; schedule:
  ``schedule:<slot>``; apply to existing records: ``existing``.

Receivers only enqueue tasks (``dispatch_changes``, ``dispatch_stage``, ``dispatch_scores``):
workflows run asynchronously, in the worker, and nothing here can fail or slow the change that
triggered them.
"""

import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from leadcycle.workflows.engine import MODELS, VIA, fire
from leadcycle.workflows.models import Workflow

log = logging.getLogger(__name__)

TASK_CHUNK = 5_000  # record ids per dispatch task
PREFILTER_LIMIT = 200  # up to this many records, the committing request checks for events
AUDIT_TRIGGERS = ("created", "updated", "saved", "field_changed")
WINDOW = datetime.timedelta(minutes=10)  # how far back a commit's audit entries are looked for
CHANGE_TRIGGERS = ("created", "updated", "saved", "field_changed", "interaction_recorded")


def _fire_safely(workflow: Workflow, events: Sequence[tuple[int, str]]) -> int:
    """One workflow's runs; an error in it (a condition the database refuses) is logged and
    the other workflows of the same event still run."""
    try:
        return fire(workflow, events)
    except Exception:
        log.exception("workflow %s (%s) failed to run", workflow.pk, workflow.name)
        return 0


ENABLED_TTL = 5.0  # seconds another server process may go on with a list saved elsewhere
_enabled_cache: tuple[float, list[Workflow]] | None = None


def enabled_cache_clear(**_: object) -> None:
    """Receiver of workflow saves and deletes: this process reads the list again at once."""
    global _enabled_cache
    _enabled_cache = None


def _enabled(triggers: Sequence[str], entity: str | None = None) -> list[Workflow]:
    """The enabled workflows with these triggers (and entity), by id. Every commit asks, so
    the list is kept for ``ENABLED_TTL`` seconds (dropped when this process saves one)."""
    global _enabled_cache
    now = time.monotonic()
    if _enabled_cache is None or now - _enabled_cache[0] > ENABLED_TTL:
        _enabled_cache = (now, list(Workflow.objects.filter(enabled=True).order_by("id")))
    return [
        w for w in _enabled_cache[1]
        if w.trigger in triggers and (not entity or w.entity == entity)
    ]  # fmt: skip


def on_records_committed(
    *,
    contact_ids: Sequence[int] = (),
    lead_ids: Sequence[int] = (),
    account_ids: Sequence[int] = (),
    **_: object,
) -> None:
    """Queue the dispatch of a commit's changes — only when some enabled workflow may take
    them: for a few records the events are looked for here (two reads), so a form submission
    that no workflow wants costs no task."""
    ids = {"contact": list(contact_ids), "lead": list(lead_ids), "account": list(account_ids)}
    if not any(ids.values()):
        return
    workflows = _enabled(CHANGE_TRIGGERS)
    if not workflows:
        return
    small = sum(len(v) for v in ids.values()) <= PREFILTER_LIMIT
    interactions = any(w.trigger == "interaction_recorded" for w in workflows)
    if (
        small
        and not (interactions and ids["contact"])
        and not any(_change_events(ids, workflows).values())
    ):
        return
    from leadcycle.workflows.tasks import dispatch_changes

    for start in range(0, max(len(v) for v in ids.values()), TASK_CHUNK):
        contacts, leads, accounts = (
            v[start : start + TASK_CHUNK] for v in (ids["contact"], ids["lead"], ids["account"])
        )
        dispatch_changes.enqueue(contacts, leads, accounts)


def _change_events(
    ids: dict[str, list[int]], workflows: list[Workflow]
) -> dict[int, list[tuple[int, str]]]:
    """Per workflow (created / updated / saved / field changed), the (record, event) pairs
    these records' recent audit entries make: one read per entity that has such workflows."""
    from leadcycle.audit.models import AuditEntry

    since = timezone.now() - WINDOW
    found: dict[int, list[tuple[int, str]]] = {}
    for entity, record_ids in ids.items():
        mine = [w for w in workflows if w.entity == entity and w.trigger in AUDIT_TRIGGERS]
        if not record_ids or not mine:
            continue
        entries = list(
            AuditEntry.objects.filter(
                record_type=f"crm.{entity}",
                record_id__in=record_ids,
                action__in=("create", "update"),
                at__gte=since,
            )
            .exclude(changes__has_key=VIA)
            .values_list("id", "record_id", "action", "changes", "at")
        )
        for workflow in mine:
            found[workflow.pk] = _events(workflow, entries)
    return found


def changes_dispatch(ids: dict[str, list[int]]) -> int:
    workflows = _enabled(CHANGE_TRIGGERS)
    by_id = {w.pk: w for w in workflows}
    runs = 0
    for pk, events in _change_events(ids, workflows).items():
        runs += _fire_safely(by_id[pk], events)
    since = timezone.now() - WINDOW
    for entity, record_ids in ids.items():
        if record_ids:
            runs += _interactions(entity, record_ids, since)
    return runs


def _events(workflow: Workflow, entries: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    events = []
    field = workflow.trigger_config.get("field", "")
    for pk, record_id, action, changes, at in entries:
        if workflow.enabled_at and at < workflow.enabled_at:
            continue
        if workflow.trigger == "created" and action != "create":
            continue
        if workflow.trigger == "updated" and action != "update":
            continue
        # "saved" (created or changed) takes both
        if workflow.trigger == "field_changed" and (action != "update" or field not in changes):
            continue
        events.append((record_id, f"audit:{pk}"))
    return events


def _interactions(entity: str, record_ids: list[int], since: datetime.datetime) -> int:
    if entity not in ("contact", "lead"):
        return 0
    workflows = _enabled(("interaction_recorded",))
    if not workflows:
        return 0
    from leadcycle.crm.models import Interaction

    runs = 0
    # Interactions reach workflows through the contact records_committed names.
    rows = (
        list(
            Interaction.objects.filter(
                contact_id__in=record_ids, created_at__gte=since
            ).values_list("id", "contact_id", "lead_id", "kind", "created_at")
        )
        if entity == "contact"
        else []
    )
    for workflow in workflows:
        kind = workflow.trigger_config.get("kind", "")
        events = [
            ((contact if workflow.entity == "contact" else lead), f"interaction:{pk}")
            for pk, contact, lead, what, at in rows
            if (not kind or what == kind)
            and (workflow.entity == "contact" or lead is not None)
            and not (workflow.enabled_at and at < workflow.enabled_at)
        ]
        runs += _fire_safely(workflow, events)
    return runs


def on_stage_entered(*, lead_ids: Sequence[int], stage_id: int, **_: object) -> None:
    if _enabled(("stage_entered",)):
        from leadcycle.workflows.tasks import dispatch_stage

        dispatch_stage.enqueue(list(lead_ids), stage_id)


def stage_dispatch(lead_ids: list[int], stage_id: int) -> int:
    from leadcycle.process.models import ProcessInstance, Stage

    workflows = _enabled(("stage_entered",))
    stage = Stage.objects.filter(pk=stage_id).first() if workflows else None
    if stage is None:
        return 0
    from leadcycle.process.models import StageVisit

    # A move a workflow made does not trigger workflows: two workflows sending a lead back and
    # forth would never stop.
    by_workflow = StageVisit.objects.filter(
        instance_id=OuterRef("pk"), left_at__isnull=True, reason__startswith="workflow:"
    )
    entered = list(
        ProcessInstance.objects.filter(lead_id__in=lead_ids, active=True, stage_id=stage_id)
        .exclude(Exists(by_workflow))
        .values_list("lead_id", "entered_at")
    )
    runs = 0
    for workflow in workflows:
        if workflow.trigger_config.get("stage") == stage.key:
            events = [(lead, f"stage:{stage_id}:{at.isoformat()}") for lead, at in entered]
            runs += _fire_safely(workflow, events)
    return runs


def on_leads_scored(*, lead_ids: Sequence[int] | None = None, **_: object) -> None:
    if not _enabled(("score_crossed",)):
        return
    from leadcycle.workflows.tasks import dispatch_scores

    dispatch_scores.enqueue(None if lead_ids is None else list(lead_ids))


def scores_dispatch(lead_ids: list[int] | None) -> int:
    from leadcycle.scoring.models import LeadScore

    runs = 0
    for workflow in _enabled(("score_crossed",)):
        threshold = workflow.trigger_config["score"]
        # Crossed: the score went from below the threshold to it or above, since the workflow
        # was switched on (leads above it before then: "apply to existing records").
        scores = LeadScore.objects.filter(score__gte=threshold).filter(
            Q(previous_score__isnull=True) | Q(previous_score__lt=threshold)
        )
        if workflow.enabled_at:
            scores = scores.filter(changed_at__gte=workflow.enabled_at)
        if lead_ids is not None:
            scores = scores.filter(lead_id__in=lead_ids)
        leads = sorted(set(scores.values_list("lead_id", flat=True)))
        runs += _fire_safely(workflow, [(lead, f"score:{threshold}") for lead in leads])
    return runs


def existing_apply(workflow: Workflow, event: str = "") -> int:
    """Run the workflow for every record of its entity its conditions hold for (turning a
    workflow on "for existing records", or a schedule's slot); by id range, set-based. Each
    application is its own event (``existing:<when>``): applying again runs again where the
    conditions still hold (an orphan given an email since), never twice within one."""
    event = event or f"existing:{timezone.now().isoformat()}"
    model = MODELS[workflow.entity]
    runs = 0
    last = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for start in range(0, last + 1, 5_000):
        ids = list(
            model.objects.filter(id__gte=start, id__lt=start + 5_000).values_list("id", flat=True)
        )
        runs += fire(workflow, [(pk, event) for pk in ids])
    return runs


def schedules_run(now: datetime.datetime | None = None) -> int:
    """Schedule workflows whose period has passed run for every matching record."""
    now = now or timezone.now()
    runs = 0
    # Read fresh, not from the cache: each one's last run time decides.
    for workflow in Workflow.objects.filter(enabled=True, trigger="schedule").order_by("id"):
        every = datetime.timedelta(hours=workflow.trigger_config["every_hours"])
        if workflow.last_scheduled_at and workflow.last_scheduled_at + every > now:
            continue
        Workflow.objects.filter(pk=workflow.pk).update(last_scheduled_at=now)
        runs += existing_apply(workflow, event=f"schedule:{now.strftime('%Y-%m-%dT%H:%M')}")
    return runs
