"""Administering processes: a process as one document (stages with their fields, transition
rules), checked whole and saved in one transaction.

Document::

    {"name": "…", "description": "…", "is_default": false,
     "stages": [{"key": "inquiry", "name": "Inquiry", "queue": "", "creates_task": false,
                 "fields": [{"name": "parent_contact", "required": false}]}, …],
     "transitions": [{"name": "…", "trigger": "step:sales_ready", "from": [],
                      "to": "sales_acceptance"}, …]}

Stages are matched by ``key``: a stage kept keeps its leads; removing a stage leads stand in,
or one their history names, is refused (``stage_in_use``). Errors name the node
(``stages.2.fields.0.name``).
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from leadcycle.audit.services import Actor, audit_create, audit_update, record_snapshot
from leadcycle.errors import DomainError
from leadcycle.process.models import (
    Process,
    ProcessInstance,
    Stage,
    StageField,
    StageVisit,
    Transition,
)
from leadcycle.process.steps import STEPS, TRIGGERS

MAX_STAGES = 20
QUEUES = {choice.value for choice in Stage.Queue}


def process_document(process: Process) -> dict[str, Any]:
    stages = list(process.stages.prefetch_related("fields").order_by("position"))
    keys = {stage.pk: stage.key for stage in stages}
    return {
        "name": process.name,
        "description": process.description,
        "is_default": process.is_default,
        "stages": [
            {
                "key": stage.key,
                "name": stage.name,
                "queue": stage.queue,
                "creates_task": stage.creates_task,
                "fields": [{"name": f.name, "required": f.required} for f in stage.fields.all()],
            }
            for stage in stages
        ],
        "transitions": [
            {
                "name": rule.name,
                "trigger": rule.trigger,
                "from": [keys[s.pk] for s in rule.from_stages.all()],
                "to": keys[rule.to_stage_id],
            }
            for rule in process.transitions.prefetch_related("from_stages").order_by("position")
        ],
    }


def _problem(path: str, message: str) -> ValidationError:
    return ValidationError({path: ValidationError(message, code="invalid")})


def _text(raw: Mapping[str, Any], name: str, path: str, *, limit: int, required: bool) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise _problem(f"{path}{name}", f"Text of 1 to {limit} characters.")
    return value.strip()


def _check(data: object) -> dict[str, Any]:
    """The document, checked; ValidationError naming the first node at fault."""
    if not isinstance(data, Mapping):
        raise _problem("document", "An object with name, stages and transitions.")
    name = _text(data, "name", "", limit=200, required=True)
    stages = data.get("stages")
    if not isinstance(stages, list) or not 1 <= len(stages) <= MAX_STAGES:
        raise _problem("stages", f"A list of 1 to {MAX_STAGES} stages.")
    keys: list[str] = []
    checked_stages = []
    for n, stage in enumerate(stages):
        path = f"stages.{n}."
        if not isinstance(stage, Mapping):
            raise _problem(f"stages.{n}", "A stage (an object).")
        key = _text(stage, "key", path, limit=60, required=True)
        if not key.replace("_", "").replace("-", "").isalnum() or key in keys:
            raise _problem(f"{path}key", "Letters, digits, - and _, unique in the process.")
        keys.append(key)
        queue = stage.get("queue", "") or ""
        if not isinstance(queue, str) or queue not in QUEUES:
            raise _problem(f"{path}queue", "One of: telemarketing, sales, or empty.")
        fields = stage.get("fields", [])
        if not isinstance(fields, list):
            raise _problem(f"{path}fields", "A list of fields.")
        seen: set[str] = set()
        checked_fields = []
        for m, field in enumerate(fields):
            step_name = field.get("name") if isinstance(field, Mapping) else None
            if not isinstance(step_name, str) or step_name not in STEPS:
                raise _problem(f"{path}fields.{m}.name", f"One of: {', '.join(STEPS)}.")
            if field["name"] in seen:
                raise _problem(f"{path}fields.{m}.name", "Already a field of this stage.")
            seen.add(field["name"])
            checked_fields.append(
                {"name": field["name"], "required": field.get("required") is True}
            )
        checked_stages.append({
            "key": key, "name": _text(stage, "name", path, limit=100, required=True),
            "queue": queue, "creates_task": stage.get("creates_task") is True and bool(queue),
            "fields": checked_fields,
        })  # fmt: skip
    transitions = data.get("transitions", [])
    if not isinstance(transitions, list):
        raise _problem("transitions", "A list of rules.")
    checked_rules = []
    for n, rule in enumerate(transitions):
        path = f"transitions.{n}."
        if not isinstance(rule, Mapping):
            raise _problem(f"transitions.{n}", "A rule (an object).")
        if not isinstance(rule.get("trigger"), str) or rule["trigger"] not in TRIGGERS:
            raise _problem(f"{path}trigger", f"One of: {', '.join(TRIGGERS)}.")
        if not isinstance(rule.get("to"), str) or rule["to"] not in keys:
            raise _problem(f"{path}to", "The key of a stage of this process.")
        sources = rule.get("from", [])
        if not isinstance(sources, list) or any(
            not isinstance(s, str) or s not in keys for s in sources
        ):
            raise _problem(f"{path}from", "Keys of stages of this process (empty: any earlier).")
        if rule["to"] in sources:
            raise _problem(f"{path}from", "A rule cannot move leads into the stage they are in.")
        checked_rules.append({
            "name": _text(rule, "name", path, limit=200, required=True),
            "trigger": rule["trigger"], "from": list(sources), "to": rule["to"],
        })  # fmt: skip
    return {
        "name": name,
        "description": _text(data, "description", "", limit=5_000, required=False),
        "is_default": data.get("is_default") is True,
        "stages": checked_stages,
        "transitions": checked_rules,
    }


@transaction.atomic
def process_save(*, process: Process | None, by: Actor, data: object) -> Process:
    """Create (``process`` None) or replace a process from its document."""
    doc = _check(data)
    others = Process.objects.exclude(pk=process.pk) if process else Process.objects.all()
    if others.filter(name=doc["name"]).exists():
        raise _problem("name", "Another process has this name.")
    new = process is None
    before = None if new else record_snapshot(process)  # type: ignore[arg-type]
    if doc["is_default"]:
        others.filter(is_default=True).update(is_default=False)
    if process is None:
        process = Process(version=0)
    elif process.is_default and not doc["is_default"]:
        raise _problem("is_default", "Make another process the default instead.")
    process.name, process.description = doc["name"], doc["description"]
    process.is_default = doc["is_default"] or (new and not Process.objects.exists())
    process.version += 1
    process.save()
    existing = {stage.key: stage for stage in process.stages.all()}
    wanted = {stage["key"] for stage in doc["stages"]}
    for key, stage in existing.items():
        if key not in wanted:
            if ProcessInstance.objects.filter(stage=stage).exists():
                raise DomainError(
                    "stage_in_use",
                    f"Leads stand in “{stage.name}”: move them before removing the stage.",
                    fields={"stages": key},
                )
            if StageVisit.objects.filter(stage=stage).exists():
                raise DomainError(
                    "stage_in_use",
                    f"Leads have passed through “{stage.name}” and their history names it: "
                    "rename the stage, or copy the process and retire this one.",
                    fields={"stages": key},
                )
            process.transitions.filter(to_stage=stage).delete()
            stage.delete()
    # Positions change: move them out of the way of the unique (process, position) first.
    process.stages.update(position=F("position") + 1000)
    stages = {}
    for position, item in enumerate(doc["stages"]):
        stage = existing.get(item["key"]) or Stage(process=process, key=item["key"])
        stage.position, stage.name = position, item["name"]
        stage.queue, stage.creates_task = item["queue"], item["creates_task"]
        stage.save()
        stage.fields.all().delete()
        StageField.objects.bulk_create(
            StageField(stage=stage, position=m, name=f["name"], required=f["required"])
            for m, f in enumerate(item["fields"])
        )
        stages[item["key"]] = stage
    process.transitions.all().delete()
    for position, item in enumerate(doc["transitions"]):
        rule = Transition.objects.create(
            process=process, position=position, name=item["name"], trigger=item["trigger"],
            to_stage=stages[item["to"]],
        )  # fmt: skip
        rule.from_stages.set([stages[key] for key in item["from"]])
    if new:
        audit_create(actor=by, instance=process)
    else:
        audit_update(actor=by, instance=process, before=before)  # type: ignore[arg-type]
        # Rules are level-triggered: changed rules or required fields apply to every open lead.
        from leadcycle.process.tasks import advance_leads

        transaction.on_commit(lambda: advance_leads.enqueue(None))
    return process


def process_copy(*, process: Process, by: Actor, name: str = "") -> Process:
    doc = process_document(process)
    doc["name"] = name.strip() or _free_name(f"Copy of {process.name}")
    doc["is_default"] = False
    return process_save(process=None, by=by, data=doc)


def _free_name(name: str) -> str:
    candidate, n = name[:190], 2
    while Process.objects.filter(name=candidate).exists():
        candidate, n = f"{name[:185]} ({n})", n + 1
    return candidate


@transaction.atomic
def process_delete(*, process: Process, by: Actor) -> None:
    if process.is_default:
        raise DomainError("process_default", "Make another process the default first.")
    if process.instances.filter(active=True).exists():
        raise DomainError("process_in_use", "Leads follow this process: switch them first.")
    if process.instances.exists():
        raise DomainError("process_in_use", "Leads have a history in this process.")
    process.delete()
