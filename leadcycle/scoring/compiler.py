"""From a scoring model's rules to one SQL statement that scores a set of leads.

Every rule becomes a count ``n``: 0 when a child condition fails, otherwise 1, or, when the
rule has an *each* interaction condition, the number of matching interactions. A lead's score
is ``Σ points * n`` over the rules. Child conditions on the lead, its parent contact and the
contact's account are conditions on joined rows; interaction conditions are correlated
``EXISTS`` / ``COUNT`` subqueries on the (contact, kind, time) index. Account-based models use
the interactions of every contact of the lead's account.

Table aliases and columns come from this module and ``leadcycle.expressions``; every value is
a parameter. ``parse_rules`` and ``parse_grades`` raise ``ValidationError`` naming the part at
fault (``rules.2.conditions.0.where.1.op``).
"""

import datetime
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from leadcycle import expressions
from leadcycle.expressions import Expression

FREQUENCIES = ("each", "at_least", "none")
ENTITIES = {
    "contact": ("lead", "contact", "account", "interaction"),
    "account": ("lead", "account", "interaction"),
}
MAX_DAYS = 3650
# How far each entity is from the lead, in relations: lead → parent contact → account;
# interactions hang off the contact (SPEC §4 allows up to five hops).
HOPS = {"lead": 0, "contact": 1, "account": 2, "interaction": 2}
_ALIAS = {"lead": "l", "contact": "c", "account": "a", "interaction": "i"}


@dataclass(frozen=True)
class Condition:
    entity: str
    where: tuple[Expression, ...]
    kind: str = ""
    frequency: str = "at_least"
    within_days: int | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    points: int
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Grade:
    name: str
    low: int
    high: int


def _error(path: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


def parse_rules(
    target: str, rules: Sequence[Mapping[str, Any]], kinds: Mapping[str, str]
) -> list[Rule]:
    """Check every rule of a model aimed at ``target`` leads."""
    allowed = ENTITIES[target]
    parsed: list[Rule] = []
    for r, raw in enumerate(rules):
        path = f"rules.{r}"
        name = str(raw.get("name") or "").strip()
        if not name:
            raise _error(f"{path}.name", "Name the rule.", "required")
        points = raw.get("points")
        if isinstance(points, bool) or not isinstance(points, int):
            raise _error(f"{path}.points", "Points are a whole number (negative subtracts).")
        if abs(points) > 1_000_000:
            raise _error(f"{path}.points", "At most 1,000,000 points either way.")
        conditions = raw.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise _error(f"{path}.conditions", "Give at least one condition.", "required")
        children: list[Condition] = []
        for c, child in enumerate(conditions):
            children.append(_parse_condition(child, f"{path}.conditions.{c}", allowed, kinds))
        if sum(1 for child in children if child.frequency == "each") > 1:
            raise _error(
                f"{path}.conditions",
                "At most one condition per rule counts each occurrence.",
                "several_each",
            )
        parsed.append(Rule(name, points, tuple(children)))
    return parsed


def _parse_condition(
    raw: object, path: str, allowed: Sequence[str], kinds: Mapping[str, str]
) -> Condition:
    if not isinstance(raw, Mapping):
        raise _error(path, "A condition is an object with an entity.")
    entity = raw.get("entity")
    if entity not in allowed:
        raise _error(
            f"{path}.entity",
            f"Unknown entity {entity!r} for this model; one of: {', '.join(allowed)}.",
            "unknown_entity",
        )
    entity = str(entity)
    if HOPS[entity] > 5:
        raise _error(f"{path}.entity", "At most five hops from the lead.", "too_far")
    where = raw.get("where") or []
    if not isinstance(where, list):
        raise _error(f"{path}.where", "A list of expressions.")
    parsed = tuple(
        expressions.parse(entity, item, f"{path}.where.{w}") for w, item in enumerate(where)
    )
    if entity != "interaction":
        for key in ("kind", "frequency", "within_days"):
            if raw.get(key) not in (None, ""):
                raise _error(f"{path}.{key}", f"Only interaction conditions have {key}.")
        return Condition(entity, parsed)
    kind = raw.get("kind")
    if kind not in kinds:
        raise _error(f"{path}.kind", f"Unknown interaction kind {kind!r}.", "unknown_kind")
    frequency = raw.get("frequency") or "at_least"
    if frequency not in FREQUENCIES:
        raise _error(
            f"{path}.frequency",
            f"Frequency is one of: {', '.join(FREQUENCIES)}.",
            "unknown_frequency",
        )
    days = raw.get("within_days")
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS
    ):
        raise _error(f"{path}.within_days", f"A number of days from 1 to {MAX_DAYS}.")
    return Condition(entity, parsed, str(kind), str(frequency), days)


def parse_grades(raw: object) -> list[Grade]:
    """Named score ranges, continuous and non-overlapping: each starts one above the last."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise _error("grades", "A list of {name, min, max}.")
    grades: list[Grade] = []
    for g, item in enumerate(raw):
        path = f"grades.{g}"
        if not isinstance(item, Mapping):
            raise _error(path, "A grade is {name, min, max}.")
        name, low, high = str(item.get("name") or "").strip(), item.get("min"), item.get("max")
        if not name:
            raise _error(f"{path}.name", "Name the grade.", "required")
        for key, value in (("min", low), ("max", high)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise _error(f"{path}.{key}", "A whole number.")
        assert isinstance(low, int) and isinstance(high, int)
        if low > high:
            raise _error(f"{path}.max", "The range ends before it starts.", "empty_range")
        grades.append(Grade(name, low, high))
    grades.sort(key=lambda grade: grade.low)
    for before, after in itertools.pairwise(grades):
        if after.low <= before.high:
            raise _error("grades", f"{before.name} and {after.name} overlap.", "overlapping_grades")
        if after.low != before.high + 1:
            raise _error(
                "grades",
                f"Scores from {before.high + 1} to {after.low - 1} have no grade; ranges must "
                "be continuous.",
                "gap_in_grades",
            )
    return grades


# SQL ---------------------------------------------------------------------------------------


def _interactions_of_lead(target: str) -> str:
    if target == "contact":
        return "i.contact_id = l.parent_contact_id"
    return (
        "i.contact_id IN"
        " (SELECT ac.id FROM crm_contact ac WHERE ac.account_id = l.parent_account_id)"
    )


def _rule_count(
    rule: Rule, target: str, now: datetime.datetime, *, as_of: bool = False
) -> tuple[str, list[Any]]:
    """The rule's ``n`` for the lead row ``l`` (see the module docstring)."""
    fixed: list[str] = []
    params: list[Any] = []
    counted = "1"
    counted_params: list[Any] = []
    for condition in rule.conditions:
        if condition.entity != "interaction":
            parts = ["a.id IS NOT NULL"] if condition.entity == "account" else []
            for expression in condition.where:
                sql, values = expressions.compile_sql(expression, _ALIAS[condition.entity])
                parts.append(f"({sql})")
                params += values
            if parts:
                fixed.append(" AND ".join(parts))
            continue
        inner = [_interactions_of_lead(target), "i.kind = %s"]
        inner_params: list[Any] = [condition.kind]
        if as_of:
            inner.append("i.occurred_at <= %s")
            inner_params.append(now)
        if condition.within_days is not None:
            inner.append("i.occurred_at >= %s")
            inner_params.append(now - datetime.timedelta(days=condition.within_days))
        for expression in condition.where:
            sql, values = expressions.compile_sql(expression, "i")
            inner.append(f"({sql})")
            inner_params += values
        where = " AND ".join(inner)
        if condition.frequency == "each":
            counted = f"(SELECT COUNT(*) FROM crm_interaction i WHERE {where})"  # noqa: S608
            counted_params = inner_params
        elif condition.frequency == "at_least":
            fixed.append(f"EXISTS (SELECT 1 FROM crm_interaction i WHERE {where})")  # noqa: S608
            params += inner_params
        else:
            fixed.append(f"NOT EXISTS (SELECT 1 FROM crm_interaction i WHERE {where})")  # noqa: S608
            params += inner_params
    if not fixed:
        return counted, counted_params
    return f"CASE WHEN {' AND '.join(fixed)} THEN {counted} ELSE 0 END", params + counted_params


def leads_from(target: str, *, as_of: bool = False) -> str:
    """The eligible leads of a model with their contact (``c``) and account (``a``) rows: the
    open ones, or (``as_of``) those that existed at a past time, given as a parameter."""
    eligible = "l.created_at <= %s" if as_of else "l.status = 'open'"
    if target == "contact":
        return (
            "crm_lead l JOIN crm_contact c ON c.id = l.parent_contact_id"
            f" LEFT JOIN crm_account a ON a.id = c.account_id WHERE {eligible}"
        )
    return (
        "crm_lead l JOIN crm_account a ON a.id = l.parent_account_id"
        f" WHERE {eligible} AND l.parent_contact_id IS NULL"
    )


def score_select(
    rules: Sequence[Rule],
    target: str,
    now: datetime.datetime,
    lead_filter: tuple[str, list[Any]],
    *,
    per_rule: bool = False,
    as_of: bool = False,
) -> tuple[str, list[Any]]:
    """``SELECT lead_id, score`` (or, with ``per_rule``, ``lead_id, n0, n1, …``) for the
    eligible leads matching ``lead_filter`` (a condition on ``l``). With ``as_of``, the scores
    the model would have given at ``now``, a past time: leads that existed then, interactions
    up to then (fields are today's values: there is no field history)."""
    counts: list[str] = []
    params: list[Any] = []
    for index, rule in enumerate(rules):
        sql, values = _rule_count(rule, target, now, as_of=as_of)
        counts.append(f"({sql}) AS n{index}" if per_rule else f"{int(rule.points)} * ({sql})")
        params += values
    if per_rule:
        columns = ", ".join(["l.id AS lead_id", *counts]) if counts else "l.id AS lead_id"
    else:
        columns = f"l.id AS lead_id, {' + '.join(counts) if counts else '0'} AS score"
    filter_sql, filter_params = lead_filter
    return (
        f"SELECT {columns} FROM {leads_from(target, as_of=as_of)} AND ({filter_sql})",  # noqa: S608 - built from fixed fragments
        params + ([now] if as_of else []) + filter_params,
    )


def grade_case(grades: Sequence[Grade], column: str) -> tuple[str, list[Any]]:
    """SQL for the grade name of the score in ``column`` ('' outside every range)."""
    if not grades:
        return "''", []
    whens = " ".join("WHEN " + column + " BETWEEN %s AND %s THEN %s" for _ in grades)
    params: list[Any] = []
    for grade in grades:
        params += [grade.low, grade.high, grade.name]
    return f"CASE {whens} ELSE '' END", params


def grade_of(grades: Sequence[Grade], score: int) -> str:
    return next((g.name for g in grades if g.low <= score <= g.high), "")
