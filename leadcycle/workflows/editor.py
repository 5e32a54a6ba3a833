"""The workflow form without JSON: conditions as rows (field, operator, value) and actions as
rows (a type and the inputs that type needs), read back into the document that
``services.workflow_save`` checks. A row with no field (condition) or no type (action) is
dropped; one blank row of each is drawn to add to. Errors from the checks (``conditions.2.op``,
``actions.1.values.salary``) are shown on their row."""

import re
from typing import Any

from django.http import QueryDict

from leadcycle import expressions
from leadcycle.workflows import catalog

MAX_ROWS = 10
TEXT_OF = {"create_task": "subject", "notify": "message", "create_lead": "topic"}


def _form_value(value: object) -> str:
    return expressions.form_text(value)


def rows_for(doc: dict[str, Any]) -> dict[str, Any]:
    """The rows a document draws (plus a blank one each)."""
    conditions = [
        {"field": c.get("field", ""), "op": c.get("op", "eq"), "value": _form_value(c.get("value"))}
        for c in doc.get("conditions") or []
        if isinstance(c, dict)
    ]
    actions = []
    for a in doc.get("actions") or []:
        if not isinstance(a, dict):
            continue
        kind = a.get("type", "")
        row = {
            "type": kind,
            "on": a.get("on", "record"),
            "field": "",
            "value": "",
            "text": a.get(TEXT_OF.get(kind, ""), "") if kind in TEXT_OF else "",
            "queue": a.get("queue", ""),
            "user": a.get("user_id") or a.get("assignee_id") or "",
            "email": a.get("email") is True,
            "stage": a.get("stage", ""),
            "segment": a.get("segment_id") or "",
            "url": a.get("url", ""),
            "secret": a.get("secret", ""),
            "due": a.get("due_in_days", 1),
        }
        values = a.get("values") or {}
        if kind == "set_fields" and isinstance(values, dict) and values:
            # One row per field: a multi-field action draws as several rows (same result).
            for name, value in values.items():
                actions.append({**row, "field": name, "value": _form_value(value)})
            continue
        actions.append(row)
    blank_action = {
        "type": "",
        "on": "record",
        "field": "",
        "value": "",
        "text": "",
        "queue": "",
        "user": "",
        "email": False,
        "stage": "",
        "segment": "",
        "url": "",
        "secret": "",
        "due": 1,
    }
    return {
        "condition_rows": [*conditions, {"field": "", "op": "eq", "value": ""}][: MAX_ROWS + 1],
        "action_rows": [*actions, blank_action][: MAX_ROWS + 1],
    }


def _typed_setting(target: str, name: str, text: str) -> Any:
    spec = catalog.SETTABLE.get(target, {}).get(name)
    text = text.strip()
    if spec is None:
        return text
    if spec.kind == "boolean":
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    if spec.kind == "user":
        if not text:
            return None
        return int(text) if re.fullmatch(r"\d{1,12}", text) else text
    return text


def _int_or_text(text: str) -> Any:
    text = text.strip()
    return int(text) if re.fullmatch(r"\d{1,12}", text) else (text or None)


def document_from_post(post: QueryDict) -> dict[str, Any]:
    """The document the form's rows describe (checked later, naming rows by index)."""
    entity = post.get("entity", "")
    trigger = post.get("trigger", "")
    config: dict[str, Any] = {}
    name = {
        "field_changed": "field",
        "score_crossed": "score",
        "stage_entered": "stage",
        "interaction_recorded": "kind",
        "schedule": "every_hours",
    }.get(trigger)
    if name:
        raw = post.get(f"config_{name}", "").strip()
        numeric = name in ("score", "every_hours") and re.fullmatch(r"-?\d{1,9}", raw)
        config[name] = int(raw) if numeric else raw
    conditions = []
    for n in range(MAX_ROWS + 1):
        field = post.get(f"cond-{n}-field", "").strip()
        if not field:
            continue
        op = post.get(f"cond-{n}-op", "eq")
        conditions.append(expressions.from_form(entity, field, op, post.get(f"cond-{n}-value", "")))
    actions: list[dict[str, Any]] = []
    for n in range(MAX_ROWS + 1):
        kind = post.get(f"act-{n}-type", "").strip()
        if not kind:
            continue
        get = lambda key, n=n: post.get(f"act-{n}-{key}", "")  # noqa: E731 - a row's reader
        action: dict[str, Any] = {"type": kind}
        if kind == "set_fields":
            on = get("on") or "record"
            target = {
                "record": entity,
                "parent_contact": "contact",
                "parent_account": "account",
            }.get(on, entity)
            action.update(
                on=on, values={get("field"): _typed_setting(target, get("field"), get("value"))}
            )
        elif kind == "create_task":
            action.update(
                subject=get("text"),
                queue=get("queue"),
                assignee_id=_int_or_text(get("user")),
                due_in_days=_int_or_text(get("due")) or 1,
            )
        elif kind == "notify":
            action.update(
                user_id=_int_or_text(get("user")),
                message=get("text"),
                email=f"act-{n}-email" in post,
            )
        elif kind == "advance_stage":
            action["stage"] = get("stage")
        elif kind in ("add_to_segment", "remove_from_segment"):
            action["segment_id"] = _int_or_text(get("segment"))
        elif kind == "webhook":
            action.update(url=get("url"), secret=get("secret"))
        elif kind == "create_lead":
            action["topic"] = get("text")
        actions.append(action)
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "entity": entity,
        "trigger": trigger,
        "trigger_config": config,
        "conditions": conditions,
        "actions": actions,
    }


def row_errors(fields: dict[str, str]) -> tuple[dict[int, str], dict[int, str]]:
    """Errors by condition and action index (``conditions.1.op`` → 1): the rows are redrawn from
    the posted document, so its indexes are the rows'."""
    found: dict[str, dict[int, str]] = {"conditions": {}, "actions": {}}
    for path, message in fields.items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] in found and parts[1].isdecimal():
            found[parts[0]][int(parts[1])] = f"{'.'.join(parts[2:]) or parts[0][:-1]}: {message}"
    return found["conditions"], found["actions"]
