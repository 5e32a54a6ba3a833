"""What a workflow may say: triggers with their settings, conditions (the expression language of
``leadcycle.expressions``) and actions, each checked with errors naming the part at fault
(``actions.1.values.salary``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from leadcycle import expressions
from leadcycle.crm.models import Contact, Interaction

ENTITIES = ("lead", "contact", "account")
TRIGGERS = {
    "created": "Record created",
    "updated": "Record changed",
    "saved": "Record created or changed",
    "field_changed": "A field changed",
    "score_crossed": "Score reached a threshold",
    "stage_entered": "Entered a process stage",
    "interaction_recorded": "Interaction recorded",
    "schedule": "On a schedule",
}
SECRET_MASK = "••••••"


@dataclass(frozen=True)
class Settable:
    kind: str  # text, boolean, user, choice
    choices: tuple[str, ...] = ()


# What set_fields may write, per entity (and on a lead's parent contact or account).
SETTABLE: dict[str, dict[str, Settable]] = {
    "lead": {
        "campaign": Settable("text"),
        "description": Settable("text"),
        "sales_ready": Settable("boolean"),
        "telemarketing_ready": Settable("boolean"),
        "owner": Settable("user"),
    },
    "contact": {
        "marketing_only": Settable("boolean"),
        "job_title": Settable("text"),
        "role": Settable("choice", tuple(Contact.Role.values)),
        "consent": Settable("choice", tuple(Contact.Consent.values)),
        "owner": Settable("user"),
    },
    "account": {
        "industry": Settable("text"),
        "owner": Settable("user"),
    },
}
TARGETS = {"record": None, "parent_contact": "contact", "parent_account": "account"}

ACTIONS = {
    "set_fields": "Set fields",
    "create_task": "Create a task",
    "notify": "Notify a user (in the app, and by email)",
    "advance_stage": "Move the lead to a stage",
    "add_to_segment": "Add the contact to a static segment",
    "remove_from_segment": "Remove the contact from a static segment",
    "webhook": "Call a webhook (signed, retried)",
    "link_parent_contact": "Find or create the lead's contact (marketing-only when created)",
    "create_lead": "Create a lead for the contact",
}
ACTION_ENTITIES = {
    "advance_stage": ("lead",),
    "link_parent_contact": ("lead",),
    "create_lead": ("contact",),
    "add_to_segment": ("lead", "contact"),
    "remove_from_segment": ("lead", "contact"),
}


def problem(path: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


def _text(
    raw: Mapping[str, Any], name: str, path: str, limit: int, required: bool,
    *, one_line: bool = True,
) -> str:  # fmt: skip
    """Text of up to ``limit`` characters; ``one_line``: no line breaks or control characters
    (they end up in mail subjects and HTTP headers)."""
    value = raw.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise problem(f"{path}{name}", f"Text of {'1' if required else '0'} to {limit} characters.")
    if one_line and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise problem(f"{path}{name}", "One line of text: no line breaks or control characters.")
    return value.strip()


def _stage_key(raw: Mapping[str, Any], path: str) -> str:
    from leadcycle.process.models import Stage

    key = _text(raw, "stage", path, 60, True)
    if not Stage.objects.filter(key=key).exists():
        known = sorted(set(Stage.objects.values_list("key", flat=True)))
        raise problem(f"{path}stage", f"No stage {key!r}; one of: {', '.join(known)}.",
                      "unknown_field")  # fmt: skip
    return key


def _int(raw: Mapping[str, Any], name: str, path: str, *, low: int, high: int) -> int:
    value = raw.get(name)
    if type(value) is not int or not low <= value <= high:
        raise problem(f"{path}{name}", f"A whole number from {low} to {high}.")
    return value


def check_trigger(entity: str, trigger: object, config: object) -> dict[str, Any]:
    if not isinstance(trigger, str) or trigger not in TRIGGERS:
        raise problem("trigger", f"One of: {', '.join(TRIGGERS)}.")
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise problem("trigger_config", "An object of the trigger's settings.")
    path = "trigger_config."
    if trigger == "field_changed":
        field = config.get("field")
        known = set(expressions.FIELDS[entity]) | set(SETTABLE[entity])
        if not isinstance(field, str) or field not in known:
            raise problem(
                f"{path}field",
                f"Unknown field {field!r} of {entity}; one of: {', '.join(sorted(known))}.",
                "unknown_field",
            )
        return {"field": field}
    if trigger == "score_crossed":
        if entity != "lead":
            raise problem("trigger", "Scores are leads': use the lead entity.")
        return {"score": _int(config, "score", path, low=-100_000, high=100_000)}
    if trigger == "stage_entered":
        if entity != "lead":
            raise problem("trigger", "Leads enter stages: use the lead entity.")
        return {"stage": _stage_key(config, path)}
    if trigger == "interaction_recorded":
        if entity == "account":
            raise problem("trigger", "Interactions are a contact's or a lead's.")
        from leadcycle.interactions.models import InteractionKind

        kind = config.get("kind") or ""
        kinds = set(Interaction.Kind.values) | set(
            InteractionKind.objects.values_list("key", flat=True)
        )
        if not isinstance(kind, str) or (kind and kind not in kinds):
            raise problem(f"{path}kind", f"Empty (any), or one of: {', '.join(sorted(kinds))}.")
        return {"kind": kind}
    if trigger == "schedule":
        return {"every_hours": _int(config, "every_hours", path, low=1, high=24 * 31)}
    return {}


def check_conditions(entity: str, raw: object) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 20:
        raise problem("conditions", "A list of up to 20 expressions, all of which must hold.")
    checked = []
    for n, item in enumerate(raw):
        expressions.parse(entity, item, f"conditions.{n}")  # raises naming the part
        checked.append(dict(item))
    return checked


def parsed_conditions(entity: str, raw: list[dict[str, Any]]) -> list[expressions.Expression]:
    return [expressions.parse(entity, item, f"conditions.{n}") for n, item in enumerate(raw)]


def _value(spec: Settable, value: object, path: str) -> Any:
    if spec.kind == "boolean":
        if not isinstance(value, bool):
            raise problem(path, "true or false.")
    elif spec.kind == "user":
        if value is not None and type(value) is not int:
            raise problem(path, "A user id, or null.")
    elif spec.kind == "choice":
        if value not in spec.choices:
            raise problem(path, f"One of: {', '.join(spec.choices)}.")
    elif not isinstance(value, str) or len(value) > 2_000:
        raise problem(path, "Text of up to 2,000 characters.")
    return value


def check_actions(
    entity: str, raw: object, old: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The actions, checked; a webhook secret given as the mask keeps the stored one."""
    from django.contrib.auth.models import User

    from leadcycle.segments.models import Segment

    if not isinstance(raw, list) or not 1 <= len(raw) <= 10:
        raise problem("actions", "A list of 1 to 10 actions.")
    checked: list[dict[str, Any]] = []
    for n, action in enumerate(raw):
        path = f"actions.{n}."
        if not isinstance(action, Mapping):
            raise problem(f"actions.{n}", "An action (an object with a type).")
        kind = action.get("type")
        if not isinstance(kind, str) or kind not in ACTIONS:
            raise problem(f"{path}type", f"One of: {', '.join(ACTIONS)}.")
        if entity not in ACTION_ENTITIES.get(kind, ENTITIES):
            raise problem(
                f"{path}type",
                f"{ACTIONS[kind]} applies to {' or '.join(ACTION_ENTITIES[kind])} workflows.",
            )
        item: dict[str, Any] = {"type": kind}
        if kind == "set_fields":
            on = action.get("on", "record") or "record"
            if (
                not isinstance(on, str)
                or on not in TARGETS
                or (on != "record" and entity != "lead")
            ):
                raise problem(
                    f"{path}on", "record, or on a lead workflow parent_contact / parent_account."
                )
            target = TARGETS[on] or entity
            values = action.get("values")
            if not isinstance(values, Mapping) or not values:
                raise problem(f"{path}values", "An object of fields to set.")
            for name, value in values.items():
                spec = SETTABLE[target].get(name)
                if spec is None:
                    raise problem(
                        f"{path}values.{name}",
                        f"Unknown field {name!r} of {target}; one of: "
                        f"{', '.join(SETTABLE[target])}.",
                        "unknown_field",
                    )
                _value(spec, value, f"{path}values.{name}")
                if (
                    spec.kind == "user"
                    and value is not None
                    and not User.objects.filter(pk=value, is_active=True).exists()
                ):
                    raise problem(f"{path}values.{name}", f"No active user {value}.")
            item.update(on=on, values=dict(values))
        elif kind == "create_task":
            item["subject"] = _text(action, "subject", path, 200, True)
            queue = action.get("queue") or ""
            if queue not in ("", "telemarketing", "sales"):
                raise problem(f"{path}queue", "telemarketing, sales, or empty.")
            assignee = action.get("assignee_id")
            if assignee is not None and (
                type(assignee) is not int
                or not User.objects.filter(pk=assignee, is_active=True).exists()
            ):
                raise problem(f"{path}assignee_id", "An active user's id, or null.")
            if not queue and assignee is None:
                raise problem(f"{path}queue", "A queue (telemarketing, sales) or an assignee_id.")
            item.update(
                queue=queue,
                assignee_id=assignee,
                due_in_days=_int(
                    {"d": action.get("due_in_days", 1)}, "d", f"{path}due_in_", low=0, high=365
                ),
            )
        elif kind == "notify":
            user = action.get("user_id")
            if type(user) is not int or not User.objects.filter(pk=user, is_active=True).exists():
                raise problem(f"{path}user_id", "An active user's id.")
            item.update(
                user_id=user,
                message=_text(action, "message", path, 200, True),
                email=action.get("email") is True,
            )
        elif kind == "advance_stage":
            item["stage"] = _stage_key(action, path)
        elif kind in ("add_to_segment", "remove_from_segment"):
            segment = action.get("segment_id")
            if (
                type(segment) is not int
                or not Segment.objects.filter(pk=segment, kind="static").exists()
            ):
                raise problem(f"{path}segment_id", "The id of a static segment.")
            item["segment_id"] = segment
        elif kind == "webhook":
            url = _text(action, "url", path, 500, True)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise problem(f"{path}url", "An http or https address.")
            secret = action.get("secret")
            if secret == SECRET_MASK and old is not None:
                secret = next(
                    (
                        a.get("secret")
                        for a in old
                        if a.get("type") == "webhook" and a.get("url") == url
                    ),
                    None,
                )
            if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
                raise problem(
                    f"{path}secret", "A shared secret of 16 to 200 characters (signs the payload)."
                )
            item.update(url=url, secret=secret)
        elif kind == "create_lead":
            item["topic"] = _text(action, "topic", path, 200, True)
        checked.append(item)
    return checked


def masked(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions as shown to people and the API: webhook secrets hidden."""
    return [
        {**a, "secret": SECRET_MASK} if a.get("type") == "webhook" else dict(a) for a in actions
    ]
