"""The process designer's form: stages (name, key, queue, task, position, fields and which are
required) and rules (name, trigger, from stages, to stage, position) as numbered inputs, read
into the process document (``admin_services``) that the service checks and saves. One blank
stage and one blank rule are drawn for adding; blank rows are ignored, ticked *remove* rows
dropped. Works without JavaScript."""

from collections.abc import Mapping
from typing import Any

from django.utils.text import slugify

from leadcycle.formdata import indices, posted
from leadcycle.process.steps import STEPS

MAX_ROWS = 40


def _position(data: Mapping[str, Any], key: str, default: int) -> float:
    try:
        return float(posted(data, key) or default)
    except ValueError:
        return float(default)


def document_from_post(data: Any) -> dict[str, Any]:
    stages = []
    for n in indices(data, r"stage-(\d+)-name", MAX_ROWS):
        p = f"stage-{n}"
        name = posted(data, f"{p}-name").strip()
        key = posted(data, f"{p}-key").strip() or slugify(name).replace("-", "_")
        if (not name and not posted(data, f"{p}-key").strip()) or f"{p}-remove" in data:
            continue
        fields = [
            {"name": step, "required": f"{p}-required-{step}" in data}
            for step in STEPS
            if f"{p}-field-{step}" in data or f"{p}-required-{step}" in data
        ]
        stages.append((
            _position(data, f"{p}-position", n),
            n,
            {"key": key, "name": name, "queue": posted(data, f"{p}-queue"),
             "creates_task": f"{p}-task" in data, "fields": fields},
        ))  # fmt: skip
    rules = []
    for n in indices(data, r"rule-(\d+)-name", MAX_ROWS):
        p = f"rule-{n}"
        name = posted(data, f"{p}-name").strip()
        if not name or f"{p}-remove" in data:
            continue
        sources = data.getlist(f"{p}-from") if hasattr(data, "getlist") else []
        rules.append((
            _position(data, f"{p}-position", n),
            n,
            {"name": name, "trigger": posted(data, f"{p}-trigger"),
             "from": [str(s) for s in sources][:MAX_ROWS], "to": posted(data, f"{p}-to")},
        ))  # fmt: skip
    return {
        "name": posted(data, "name").strip(),
        "description": posted(data, "description"),
        "is_default": "is_default" in data,
        "stages": [stage for _, _, stage in sorted(stages, key=lambda s: (s[0], s[1]))],
        "transitions": [rule for _, _, rule in sorted(rules, key=lambda r: (r[0], r[1]))],
    }


def rows_for(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as the form draws it, plus one blank stage and one blank rule."""
    blank_stage = {"key": "", "name": "", "queue": "", "creates_task": False, "fields": []}
    stages = []
    for n, stage in enumerate([*document.get("stages", []), blank_stage]):
        chosen = {f["name"]: f["required"] for f in stage.get("fields", [])}
        stages.append({
            "n": n, "position": n + 1, "stage": stage, "blank": stage is blank_stage,
            "steps": [(name, step.label, name in chosen, chosen.get(name, False))
                      for name, step in STEPS.items()],
        })  # fmt: skip
    blank_rule = {"name": "", "trigger": "", "from": [], "to": ""}
    rules = [
        {"n": n, "position": n + 1, "rule": rule, "blank": rule is blank_rule}
        for n, rule in enumerate([*document.get("transitions", []), blank_rule])
    ]
    keys = [(s["key"], s["name"]) for s in document.get("stages", [])]
    return {"stage_rows": stages, "rule_rows": rules, "stage_keys": keys}
