"""Leads moving through their business process (SPEC §6).

Every open lead follows one process through an *instance*, created the first time anything
asks (``instances_ensure``, set-based): a lead without one stands at the first stage of the
default process. Movement is by the process's transition rules, which are data: "when the
trigger holds for a lead standing in one of these stages, move it to that stage". Rules are
level-triggered — they look at the lead as it is (its score rows, its ticked steps), not at an
event — so applying them twice changes nothing, and applying them to every open lead after a
bulk change is always correct. ``advance`` applies them set-based, a fixed number of
statements per chunk of leads and rule.

People move leads too: ``steps_set`` (a stage's fields; the rules then apply), ``stage_next``
(required fields enforced), ``stage_move`` (a stage of the lead's own process; forward needs
the required fields of the stages it passes), ``process_switch`` (the old instance is kept,
inactive, with its history).

A lead at a stage with a queue is in that queue; entering a stage that ``creates_task``
creates a task in the queue for it. After commit ``stage_entered(sender, lead_ids, stage_id)``
is sent.
"""

import datetime
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from leadcycle.audit.services import Actor, audit_record
from leadcycle.bulk import insert_rows
from leadcycle.crm.models import Lead, Task
from leadcycle.crm.services import tasks_insert
from leadcycle.errors import DomainError
from leadcycle.process.models import (
    Process,
    ProcessInstance,
    ProcessSettings,
    Stage,
    StageField,
    StageVisit,
    Transition,
)
from leadcycle.process.steps import STEPS
from leadcycle.users.permissions import can

log = logging.getLogger(__name__)

stage_entered = Signal()  # (sender, lead_ids, stage_id), after commit
CHUNK = 5_000
INLINE_LIMIT = 200  # changes of up to this many leads move them at once, not through a task


def default_process() -> Process:
    process = Process.objects.filter(is_default=True).first() or Process.objects.first()
    if process is None:
        raise DomainError("no_process", "No business process is defined.", status=409)
    return process


def process_settings() -> ProcessSettings:
    settings, _ = ProcessSettings.objects.get_or_create(pk=1)
    return settings


def _first_stage(process: Process) -> Stage:
    stage = process.stages.order_by("position").first()
    if stage is None:
        raise DomainError("no_stages", f"The process “{process}” has no stages.", status=409)
    return stage


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# Instances ---------------------------------------------------------------------------------


def instances_ensure(lead_ids: Sequence[int]) -> None:
    """Give every one of these leads an active instance: the default process, its first stage,
    entered when the lead was created. Safe under concurrency (the database keeps one active
    instance per lead; a lost race inserts nothing)."""
    process: Process | None = None
    for chunk in _chunks(sorted(set(lead_ids))):
        missing = list(
            Lead.objects.filter(id__in=chunk)
            .exclude(Exists(ProcessInstance.objects.filter(lead=OuterRef("pk"), active=True)))
            .values_list("id", "created_at", "status")
        )
        if not missing:
            continue
        if process is None:
            process = default_process()
            first = _first_stage(process)
        now = timezone.now()
        created = insert_rows(
            ProcessInstance,
            [
                {
                    "lead_id": lead_id,
                    "process_id": process.pk,
                    "stage_id": first.pk,
                    "active": True,
                    "values": {},
                    "entered_at": created_at,
                    # A lead brought in closed (an import of old leads) has a finished one.
                    "finished_at": None if status == Lead.Status.OPEN else now,
                    "outcome": "" if status == Lead.Status.OPEN else status,
                    "created_at": now,
                }
                for lead_id, created_at, status in missing
            ],
            columns=(
                "lead_id",
                "process_id",
                "stage_id",
                "active",
                "values",
                "entered_at",
                "finished_at",
                "outcome",
                "created_at",
            ),
            skip_conflicts_on="*",
            returning=("id", "lead_id"),
        )
        created_at = {lead_id: at for lead_id, at, _ in missing}
        insert_rows(
            StageVisit,
            [
                {
                    "instance_id": pk,
                    "stage_id": first.pk,
                    "entered_at": created_at[lead_id],
                    "left_at": None,
                    "by_id": None,
                    "reason": "new lead",
                }
                for pk, lead_id in created
            ],
            columns=("instance_id", "stage_id", "entered_at", "left_at", "by_id", "reason"),
        )


def instance_for(lead: Lead, *, lock: bool = False) -> ProcessInstance:
    """The lead's active instance (created if it has none); ``lock``: for update."""
    instances_ensure([lead.pk])
    query = ProcessInstance.objects.select_related("process", "stage")
    if lock:
        query = query.select_for_update(of=("self",))
    return query.get(lead=lead, active=True)


def _move(
    instances: Sequence[tuple[int, int]],
    to: Stage,
    *,
    by: Actor,
    reason: str,
    now: datetime.datetime | None = None,
    create_tasks: bool = True,
) -> None:
    """Move these (instance id, lead id) pairs to ``to``: close their open visits, open one in
    ``to``, and, when ``to`` has a queue, a task in it for each lead. Set-based."""
    if not instances:
        return
    now = now or timezone.now()
    ids = [pk for pk, _ in instances]
    lead_ids = [lead_id for _, lead_id in instances]
    user_id = by.pk if isinstance(by, User) else None
    StageVisit.objects.filter(instance_id__in=ids, left_at__isnull=True).update(left_at=now)
    insert_rows(
        StageVisit,
        [
            {
                "instance_id": pk,
                "stage_id": to.pk,
                "entered_at": now,
                "left_at": None,
                "by_id": user_id,
                "reason": reason[:200],
            }
            for pk in ids
        ],
        columns=("instance_id", "stage_id", "entered_at", "left_at", "by_id", "reason"),
    )
    ProcessInstance.objects.filter(id__in=ids).update(stage=to, entered_at=now)
    # Leaving a queue closes the lead's open tasks in it; a lead already holding an open task
    # in the queue it enters gets no second one.
    open_tasks = Task.objects.filter(lead_id__in=lead_ids, done=False).exclude(queue="")
    open_tasks.exclude(queue=to.queue).update(done=True, done_at=now, updated_at=now)
    if to.queue and to.creates_task and create_tasks:
        holding = set(open_tasks.filter(queue=to.queue).values_list("lead_id", flat=True))
        leads = (
            Lead.objects.filter(id__in=lead_ids)
            .exclude(id__in=holding)
            .values_list("id", "topic", "parent_contact")
        )
        tasks_insert(
            [
                {
                    "kind": Task.Kind.CALL
                    if to.queue == Stage.Queue.TELEMARKETING
                    else Task.Kind.FOLLOW_UP,
                    "subject": f"{to.name}: {topic}"[:200],
                    "lead_id": lead_id,
                    "contact_id": contact_id,
                    "assignee_id": None,
                    "queue": to.queue,
                    "due_at": now + datetime.timedelta(days=1),
                    "done": False,
                    "done_at": None,
                    "owner_id": user_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for lead_id, topic, contact_id in leads
            ],
        )
    stage_id = to.pk
    transaction.on_commit(
        lambda: stage_entered.send(Stage, lead_ids=list(lead_ids), stage_id=stage_id)
    )


# Rules -------------------------------------------------------------------------------------


def _trigger_q(trigger: str, *, on_lead: bool = False) -> Q | None:
    """The test of a trigger as a filter on process instances (``on_lead``: on leads)."""
    from leadcycle.scoring.models import LeadScore

    lead = "pk" if on_lead else "lead_id"
    if trigger == "scored":
        return Q(Exists(LeadScore.objects.filter(lead_id=OuterRef(lead))))
    name = trigger.removeprefix("step:")
    step = STEPS.get(name)
    if step is None or step.kind != "boolean" or trigger == name:
        return None
    if step.on_lead:
        return Q(**{name if on_lead else f"lead__{name}": True})
    if on_lead:
        ticked = ProcessInstance.objects.filter(lead_id=OuterRef("pk"), active=True)
        return Q(Exists(ticked.filter(**{f"values__{name}": True})))
    return Q(**{f"values__{name}": True})


def _filled_q(name: str) -> Q:
    """A required step is filled, as a filter on process instances (``Step.filled``)."""
    step = STEPS[name]
    if step.on_lead:
        column = f"lead__{name}"
        if step.kind == "boolean":
            return Q(**{column: True})
        if step.kind in ("contact", "account", "user"):
            return Q(**{f"{column}__isnull": False})
        return ~Q(**{column: ""}) & Q(**{f"{column}__isnull": False})
    key = f"values__{name}"
    if step.kind == "boolean":
        return Q(**{key: True})
    return Q(values__has_key=name) & ~Q(**{key: None}) & ~Q(**{key: ""})


def _ready_q(sources: Sequence[int], required: Mapping[int, list[str]]) -> Q:
    """Standing in one of ``sources`` with the required fields of that stage filled: a rule
    moves a lead on only from a stage it may leave."""
    ready = Q(stage_id__in=[pk for pk in sources if not required.get(pk)])
    for pk in sources:
        if required.get(pk):
            test = Q(stage_id=pk)
            for name in required[pk]:
                test &= _filled_q(name)
            ready |= test
    return ready


_RULES_TTL = 5.0  # seconds another server process may go on with rules saved elsewhere
_rules_cache: tuple[float, list[tuple[Transition, list[int], Q]], Q | None] | None = None


def rules_cache_clear(**_: object) -> None:
    """Receiver of saves of processes, their parts and the scoring settings: this process
    reads the rules again at once (others within ``_RULES_TTL``)."""
    global _rules_cache
    _rules_cache = None


def _rules() -> list[tuple[Transition, list[int], Q]]:
    """The rules, kept for a few seconds: every lead change asks for them (five reads)."""
    global _rules_cache
    now = time.monotonic()
    if _rules_cache is None or now - _rules_cache[0] > _RULES_TTL:
        _rules_cache = (now, _rules_read(), None)
    return _rules_cache[1]


def _rules_read() -> list[tuple[Transition, list[int], Q]]:
    """Every process's rules in order, each with the stages it applies to and its test (the
    trigger, and the required fields of the stage the lead would leave)."""
    from leadcycle.scoring.services import scoring_settings

    auto_qualification = scoring_settings().auto_qualification
    rules = []
    query = Transition.objects.select_related("to_stage").prefetch_related("from_stages")
    stages: dict[int, list[tuple[int, int]]] = {}
    for stage_id, process_id, position in Stage.objects.values_list("id", "process", "position"):
        stages.setdefault(process_id, []).append((stage_id, position))
    required: dict[int, list[str]] = {}
    for stage_id, name in StageField.objects.filter(required=True).values_list("stage", "name"):
        if name in STEPS:
            required.setdefault(stage_id, []).append(name)
    for rule in query.order_by("process", "position", "id"):
        if rule.trigger == "scored" and not auto_qualification:
            continue
        test = _trigger_q(rule.trigger)
        if test is None:
            continue
        sources = [s.pk for s in rule.from_stages.all()] or [
            pk for pk, position in stages.get(rule.process_id, [])
            if position < rule.to_stage.position
        ]  # fmt: skip
        sources = [pk for pk in sources if pk != rule.to_stage_id]  # already there: no move
        rules.append((rule, sources, test & _ready_q(sources, required)))
    return rules


def advance(
    lead_ids: Sequence[int] | None = None, *, create_tasks: bool = True, by: Actor = None
) -> int:
    """Apply the transition rules to these open leads (None: every open lead, by id range);
    returns how many moves were made. Each chunk is one transaction. ``create_tasks=False``:
    no queue tasks (a load that brings its own); ``by``: the person whose change set the rules
    off (the visit names both)."""
    rules = _rules()
    if not rules:
        return 0
    moved = 0
    if lead_ids is None:
        bounds = Lead.objects.filter(status=Lead.Status.OPEN).order_by("id")
        first, last = bounds.values_list("id", flat=True).first(), bounds.last()
        if first is None or last is None:
            return 0
        for start in range(first, last.pk + 1, CHUNK):
            chunk = list(
                Lead.objects.filter(
                    status=Lead.Status.OPEN, id__gte=start, id__lt=start + CHUNK
                ).values_list("id", flat=True)
            )
            moved += _advance_candidates(chunk, rules, create_tasks, by)
        return moved
    for chunk in _chunks(sorted(set(lead_ids))):
        moved += _advance_candidates(chunk, rules, create_tasks, by)
    return moved


def _wanted(rules: list[tuple[Transition, list[int], Q]]) -> Q:
    """Some rule's trigger holds for the lead: one filter, kept beside the rules it is of."""
    global _rules_cache
    if _rules_cache is not None and _rules_cache[1] is rules and _rules_cache[2] is not None:
        return _rules_cache[2]
    wanted = Q()
    for rule, _, _ in rules:
        wanted |= _trigger_q(rule.trigger, on_lead=True) or Q(pk__in=[])
    if _rules_cache is not None and _rules_cache[1] is rules:
        _rules_cache = (_rules_cache[0], rules, wanted)
    return wanted


def _advance_candidates(
    chunk: list[int],
    rules: list[tuple[Transition, list[int], Q]],
    create_tasks: bool,
    by: Actor,
) -> int:
    # Only leads some rule's trigger holds for can move: one read finds them, and the others
    # (most new leads: no score, nothing ticked) cost nothing more — not even a transaction.
    candidates = list(
        Lead.objects.filter(_wanted(rules), id__in=chunk, status=Lead.Status.OPEN).values_list(
            "id", flat=True
        )
    )
    if not candidates:
        return 0
    with transaction.atomic():
        return _advance_chunk(candidates, rules, create_tasks, by)


def _advance_chunk(
    chunk: list[int],
    rules: list[tuple[Transition, list[int], Q]],
    create_tasks: bool = True,
    by: Actor = None,
) -> int:
    instances_ensure(chunk)
    moved = 0
    now = timezone.now()
    for rule, sources, test in rules:
        # Locked (PostgreSQL): a concurrent run of the same rule waits, then finds the lead
        # moved and leaves it; nobody enters a stage twice.
        pairs = list(
            ProcessInstance.objects.select_for_update(of=("self",))
            .filter(
                test,
                active=True,
                held=False,
                process_id=rule.process_id,
                stage_id__in=sources,
                lead_id__in=chunk,
                lead__status=Lead.Status.OPEN,
            )
            .values_list("id", "lead_id")
        )
        _move(
            pairs,
            rule.to_stage,
            by=by,
            reason=f"rule: {rule.name}",
            now=now,
            create_tasks=create_tasks,
        )
        moved += len(pairs)
    return moved


def on_leads_changed(*, lead_ids: Sequence[int] | None = None, **_: object) -> None:
    """Receiver of ``records_committed``, ``lead_sales_ready`` and ``leads_scored``: a few leads
    move at once; many (or all: ``None``) through a task."""
    if lead_ids is not None and not lead_ids:
        return
    if lead_ids is not None and len(lead_ids) <= INLINE_LIMIT:
        try:
            advance(list(lead_ids))
        except Exception:  # the change itself committed; the rules run again on the next one
            log.exception("process rules failed for leads %s", list(lead_ids)[:10])
        return
    from leadcycle.process.tasks import advance_leads

    advance_leads.enqueue(None if lead_ids is None else list(lead_ids))


# What people do ----------------------------------------------------------------------------


def _stage_fields(stage: Stage) -> list[StageField]:
    return list(stage.fields.order_by("position"))


def step_value(instance: ProcessInstance, name: str) -> Any:
    step = STEPS[name]
    if step.on_lead:
        lead = instance.lead
        return getattr(lead, f"{name}_id" if step.kind in ("contact", "account", "user") else name)
    return instance.values.get(name)


def _missing(instance: ProcessInstance, stages: Iterable[Stage]) -> dict[str, str]:
    missing = {}
    for stage in stages:
        for field in _stage_fields(stage):
            if field.required and not STEPS[field.name].filled(step_value(instance, field.name)):
                missing[field.name] = f"Required to leave {stage.name}."
    return missing


def _open(lead: Lead) -> None:
    if lead.status != Lead.Status.OPEN:
        raise DomainError(
            "lead_closed",
            f"The lead is {lead.get_status_display().lower()}: reactivate it first.",
            fields={"status": lead.status},
        )


@transaction.atomic
def steps_set(*, lead: Lead, by: Actor, values: Mapping[str, Any]) -> ProcessInstance:
    """Set fields of the lead's stages (lead columns through the lead's own service), then
    apply the rules. Unknown fields, or fields of no stage of the process, are refused."""
    from leadcycle.crm.services import lead_update

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _open(lead)
    instance = instance_for(lead, lock=True)
    instance.lead = lead
    allowed = set(
        StageField.objects.filter(stage__process=instance.process).values_list("name", flat=True)
    )
    errors = {}
    on_lead: dict[str, Any] = {}
    on_instance: dict[str, Any] = {}
    for name, value in values.items():
        step = STEPS.get(name)
        if step is None or name not in allowed:
            errors[name] = f"No field {name!r} in the process “{instance.process}”."
            continue
        if step.kind == "boolean":
            if not isinstance(value, bool):
                errors[name] = "true or false."
                continue
        elif step.kind in ("contact", "account", "user"):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                errors[name] = "A record id, or null."
                continue
        elif value is not None and not isinstance(value, str):
            errors[name] = "Text."
            continue
        elif step.choices and value and value not in dict(step.choices):
            errors[name] = f"One of: {', '.join(dict(step.choices))}."
            continue
        elif isinstance(value, str) and len(value) > 2_000:
            errors[name] = "At most 2,000 characters."
            continue
        if step.on_lead:
            suffix = "_id" if step.kind in ("contact", "account", "user") else ""
            on_lead[f"{name}{suffix}"] = value if value is not None or suffix else ""
        else:
            on_instance[name] = value
    if errors:
        raise ValidationError({name: ValidationError(message) for name, message in errors.items()})
    changed = {
        name for name in ("owner", "sales_accepted")
        if name in values and _differs(STEPS[name], step_value(instance, name), values[name])
    }  # fmt: skip
    if changed and isinstance(by, User) and not can(by, "accept", ProcessInstance):
        raise DomainError(
            "permission_denied",
            "Only a sales manager assigns leads to sellers and accepts them.",
            fields={name: "A sales manager's step." for name in sorted(changed)},
            status=403,
        )
    accepted = on_instance.get("sales_accepted", instance.values.get("sales_accepted")) is True
    if accepted and on_lead.get("owner_id", lead.owner_id) is None:
        errors["owner"] = "An accepted lead needs an owner: assign it to a seller."
    if errors:
        raise ValidationError({name: ValidationError(message) for name, message in errors.items()})
    ticked = any(
        STEPS[name].kind == "boolean" and value is True and step_value(instance, name) is not True
        for name, value in values.items()
    )
    if on_lead:
        lead = lead_update(lead=lead, by=by, data=on_lead)
    if on_instance or (ticked and instance.held):
        before = {"values": dict(instance.values), "held": instance.held}
        instance.values = {**instance.values, **on_instance}
        instance.held = instance.held and not ticked
        instance.save(update_fields=["values", "held"])
        audit_record(
            actor=by, action="update", instance=instance, before=before,
            after={"values": instance.values, "held": instance.held},
        )  # fmt: skip
    advance([lead.pk], by=by)
    return ProcessInstance.objects.select_related("process", "stage").get(pk=instance.pk)


def _differs(step: Any, old: object, new: object) -> bool:
    """Whether setting a step changes it: an unticked box equals a never-ticked one."""
    if step.kind == "boolean":
        return bool(old) != bool(new)
    return old != new


def _stage_of(instance: ProcessInstance, stage_id: object) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first() if type(stage_id) is int else None
    if stage is None or stage.process_id != instance.process_id:
        raise DomainError(
            "stage_other_process",
            f"That stage is not a stage of the process “{instance.process}”.",
            fields={"stage_id": "Not a stage of this lead's process."},
            status=422,
        )
    return stage


@transaction.atomic
def stage_move(*, lead: Lead, by: Actor, stage_id: int) -> ProcessInstance:
    """Move the lead to a stage of its process: forward only with the required fields of the
    stages it leaves filled; back freely."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _open(lead)
    instance = instance_for(lead, lock=True)
    target = _stage_of(instance, stage_id)
    current = instance.stage
    if target.pk == current.pk:
        return instance
    if target.position > current.position:
        passed = instance.process.stages.filter(
            position__gte=current.position, position__lt=target.position
        )
        missing = _missing(instance, passed)
        if missing:
            raise DomainError(
                "required_fields",
                f"Fill in the required fields before moving to {target.name}.",
                fields=missing,
                status=422,
            )
    _move([(instance.pk, lead.pk)], target, by=by, reason="moved by hand")
    # Moved back, the lead stays where the person put it (its sales-ready tick would otherwise
    # send it straight on again) until a person moves it on or ticks a step.
    held = target.position < current.position
    ProcessInstance.objects.filter(pk=instance.pk).update(held=held)
    instance.refresh_from_db()
    return instance


@transaction.atomic
def stage_next(*, lead: Lead, by: Actor) -> ProcessInstance:
    # The next stage is read under the lead's lock: two clicks move it one stage, not back.
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    instance = instance_for(lead, lock=True)
    following = (
        instance.process.stages.filter(position__gt=instance.stage.position)
        .order_by("position")
        .first()
    )
    if following is None:
        raise DomainError(
            "last_stage",
            f"{instance.stage.name} is the last stage: qualify or disqualify the lead.",
            status=409,
        )
    return stage_move(lead=lead, by=by, stage_id=following.pk)


@transaction.atomic
def process_switch(*, lead: Lead, by: Actor, process_id: int) -> ProcessInstance:
    """Put the lead on another process, at its first stage; the old instance stays, inactive,
    with its history (switching back resumes the old instance at the new one's first stage)."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _open(lead)
    process = Process.objects.filter(pk=process_id).first()
    if process is None:
        raise DomainError(
            "unknown_process", "No such process.", fields={"process_id": "Unknown."}, status=422
        )
    current = instance_for(lead, lock=True)
    if current.process_id == process.pk:
        return current
    first = _first_stage(process)
    now = timezone.now()
    StageVisit.objects.filter(instance=current, left_at__isnull=True).update(left_at=now)
    ProcessInstance.objects.filter(pk=current.pk).update(
        active=False, finished_at=now, outcome="switched"
    )
    instance, created = ProcessInstance.objects.get_or_create(
        lead=lead,
        process=process,
        defaults={"stage": first, "entered_at": now},
    )
    if not created:
        ProcessInstance.objects.filter(pk=instance.pk).update(
            active=True, finished_at=None, outcome="", held=False
        )
    _move([(instance.pk, lead.pk)], first, by=by, reason=f"switched from “{current.process}”")
    advance([lead.pk])
    return ProcessInstance.objects.select_related("process", "stage").get(pk=instance.pk)


def leads_move_to_stage(lead_ids: Sequence[int], stage_key: str, *, reason: str) -> set[int]:
    """Move these open leads to the stage with this key in their own process (a workflow's
    action), set-based per process; returns the leads moved. Leads already there, closed, or
    whose process has no such stage stay."""
    instances_ensure(lead_ids)
    moved: set[int] = set()
    targets = {s.process_id: s for s in Stage.objects.filter(key=stage_key)}
    required: dict[int, list[str]] = {}
    for stage_id, name in StageField.objects.filter(required=True).values_list("stage", "name"):
        if name in STEPS:
            required.setdefault(stage_id, []).append(name)
    positions = dict(Stage.objects.values_list("id", "position"))
    # Like the rules: held leads stay, and a lead leaves a stage only with its required fields
    # filled (backward moves are free).
    query = ProcessInstance.objects.select_for_update(of=("self",)).filter(
        lead_id__in=lead_ids, active=True, held=False, lead__status=Lead.Status.OPEN
    )
    ready = set(query.filter(_ready_q(list(positions), required)).values_list("id", flat=True))
    rows = list(query.values_list("id", "lead_id", "process_id", "stage_id"))
    by_process: dict[int, list[tuple[int, int]]] = {}
    for pk, lead_id, process_id, stage_id in rows:
        target = targets.get(process_id)
        if target is None or target.pk == stage_id:
            continue
        if target.position > positions[stage_id] and pk not in ready:
            continue
        by_process.setdefault(process_id, []).append((pk, lead_id))
    for process_id, pairs in by_process.items():
        _move(pairs, targets[process_id], by=None, reason=reason)
        moved |= {lead_id for _, lead_id in pairs}
    return moved


def on_lead_changing(*, lead: Lead, data: Mapping[str, Any], **_: object) -> None:
    """Receiver of ``lead_changing``: an accepted lead keeps an owner, whichever path
    changes it (the lead form, ``PATCH /leads``); ticking one of the lead's steps releases a
    lead a person moved back."""
    ticked = [
        name for name, step in STEPS.items()
        if step.on_lead and step.kind == "boolean" and data.get(name) is True
        and getattr(lead, name) is not True
    ]  # fmt: skip
    if ticked:  # ticking a step anywhere (the lead form too) is a new decision: not held
        ProcessInstance.objects.filter(lead=lead, active=True, held=True).update(held=False)
    clears = ("owner_id" in data and data["owner_id"] is None) or (
        "owner" in data and data["owner"] is None
    )
    if (
        clears
        and ProcessInstance.objects.filter(
            lead=lead, active=True, values__sales_accepted=True
        ).exists()
    ):
        raise DomainError(
            "owner_required",
            "An accepted lead needs an owner: assign it to another seller instead.",
            fields={"owner": "Required once the lead is accepted for sales."},
            status=422,
        )


def on_status_changed(*, lead: Lead, old: str | None, **_: object) -> None:
    """Receiver of ``lead_status_changed``: a lead closed ends its instance, reopened resumes
    it — however the status changed (qualifying, the lead form, the API)."""
    if lead.status == Lead.Status.OPEN:
        instance_finish(lead=lead, outcome="", reopen=True)
    else:
        instance_finish(lead=lead, outcome=str(lead.status))


def instance_finish(*, lead: Lead, outcome: str, reopen: bool = False) -> None:
    """Qualifying or disqualifying ends the lead's instance (``reopen``: reactivation)."""
    now = timezone.now()
    instances_ensure([lead.pk])
    query = ProcessInstance.objects.filter(lead=lead, active=True)
    if reopen:
        query.update(finished_at=None, outcome="", held=False)
    else:
        query.update(finished_at=now, outcome=outcome)
        # A closed lead is in no queue: its open queue tasks are done with.
        Task.objects.filter(lead=lead, done=False).exclude(queue="").update(
            done=True, done_at=now, updated_at=now
        )


def waiting(instance: ProcessInstance) -> list[dict[str, Any]]:
    """The rules that would move this lead on now but wait: for the required fields of its
    stage (``missing``, by label), or because a person moved it back (``held``)."""
    if instance.finished_at is not None:
        return []
    rules = []
    for rule, sources, _ in _rules():
        if rule.process_id != instance.process_id or instance.stage_id not in sources:
            continue
        test = _trigger_q(rule.trigger)
        if test is None or not ProcessInstance.objects.filter(test, pk=instance.pk).exists():
            continue
        missing = _missing(instance, [instance.stage])
        if missing or instance.held:
            rules.append({
                "rule": rule.name, "to": rule.to_stage.name, "held": instance.held,
                "missing": [STEPS[name].label for name in missing],
            })  # fmt: skip
    return rules


def history(instance: ProcessInstance) -> list[StageVisit]:
    return list(
        StageVisit.objects.filter(instance__lead_id=instance.lead_id)
        .select_related("stage", "by", "instance__process")
        .order_by("entered_at", "id")
    )
