"""From a scoring model's rules to one SQL statement that scores a set of leads.

Every rule becomes a count ``n``: 0 when a child condition fails, otherwise 1, or, when the
rule has an *each* interaction condition, the number of matching interactions. A lead's score
is ``Σ points * n`` over the rules. Child conditions on the lead, its parent contact and the
contact's account are conditions on joined rows. Interaction conditions are counted in one
aggregate per contact (``GROUP BY contact_id`` with a conditional sum per condition) over the
interactions of the leads being scored, joined to the leads: *each* is the count, *at least*
a count above 0, *none* a count of 0. Account-based models count the interactions of every
contact of the lead's account (``GROUP BY`` the contact's account).

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


def _interaction_test(
    condition: Condition, now: datetime.datetime, *, as_of: bool
) -> tuple[str, list[Any]]:
    """Whether interaction row ``i`` counts for ``condition``."""
    parts = ["i.kind = %s"]
    params: list[Any] = [condition.kind]
    if as_of:
        parts.append("i.occurred_at <= %s")
        params.append(now)
    if condition.within_days is not None:
        parts.append("i.occurred_at >= %s")
        params.append(now - datetime.timedelta(days=condition.within_days))
    for expression in condition.where:
        sql, values = expressions.compile_sql(expression, "i")
        parts.append(f"({sql})")
        params += values
    return " AND ".join(parts), params


@dataclass(frozen=True)
class _Counts:
    """The interaction conditions of a model as one aggregate per contact (or account):
    column ``ia.kN`` is how many interactions meet condition N."""

    sql: str
    params: list[Any]
    columns: dict[int, str]  # id(condition) -> "COALESCE(ia.kN, 0)"


def _interaction_counts(
    rules: Sequence[Rule],
    target: str,
    now: datetime.datetime,
    lead_filter: tuple[str, list[Any]],
    interaction_filter: tuple[str, list[Any]] | None,
    *,
    as_of: bool,
) -> _Counts | None:
    conditions = [c for rule in rules for c in rule.conditions if c.entity == "interaction"]
    if not conditions:
        return None
    sums: list[str] = []
    params: list[Any] = []
    columns: dict[int, str] = {}
    for k, condition in enumerate(conditions):
        test, values = _interaction_test(condition, now, as_of=as_of)
        sums.append(f"SUM(CASE WHEN {test} THEN 1 ELSE 0 END) AS k{k}")
        params += values
        columns[id(condition)] = f"COALESCE(ia.k{k}, 0)"
    kinds = sorted({c.kind for c in conditions})
    kind_marks = ", ".join(["%s"] * len(kinds))
    filter_sql, filter_params = lead_filter
    if interaction_filter is not None:
        scope_sql, scope_params = interaction_filter
    elif target == "contact":
        scope_sql = (
            f"i.contact_id IN (SELECT l.parent_contact_id FROM crm_lead l WHERE {filter_sql})"  # noqa: S608
        )
        scope_params = list(filter_params)
    else:
        scope_sql = (
            f"ac.account_id IN (SELECT l.parent_account_id FROM crm_lead l WHERE {filter_sql})"  # noqa: S608
        )
        scope_params = list(filter_params)
    if target == "contact":
        source, key = "crm_interaction i", "i.contact_id"
    else:
        source, key = (
            "crm_interaction i JOIN crm_contact ac ON ac.id = i.contact_id",
            "ac.account_id",
        )
    sql = (
        f"SELECT {key} AS owner_id, {', '.join(sums)} FROM {source}"  # noqa: S608 - fixed fragments
        f" WHERE i.kind IN ({kind_marks}) AND {scope_sql} GROUP BY {key}"
    )
    return _Counts(sql, params + kinds + scope_params, columns)


def _rule_count(rule: Rule, counts: _Counts | None) -> tuple[str, list[Any]]:
    """The rule's ``n`` for the lead row ``l`` (see the module docstring)."""
    fixed: list[str] = []
    params: list[Any] = []
    counted = "1"
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
        assert counts is not None
        column = counts.columns[id(condition)]
        if condition.frequency == "each":
            counted = column
        elif condition.frequency == "at_least":
            fixed.append(f"{column} > 0")
        else:
            fixed.append(f"{column} = 0")
    if not fixed:
        return counted, params
    return f"CASE WHEN {' AND '.join(fixed)} THEN {counted} ELSE 0 END", params


def _leads_from(target: str, counts: _Counts | None, *, as_of: bool) -> tuple[str, list[Any]]:
    """The eligible leads of a model with their contact (``c``), account (``a``) and
    interaction counts (``ia``): the open ones, or (``as_of``) those that existed then."""
    if target == "contact":
        joins = (
            "crm_lead l JOIN crm_contact c ON c.id = l.parent_contact_id"
            " LEFT JOIN crm_account a ON a.id = c.account_id"
        )
        owner = "l.parent_contact_id"
        where = ""
    else:
        joins = "crm_lead l JOIN crm_account a ON a.id = l.parent_account_id"
        owner = "l.parent_account_id"
        where = " AND l.parent_contact_id IS NULL"
    params: list[Any] = []
    if counts is not None:
        joins += f" LEFT JOIN ({counts.sql}) ia ON ia.owner_id = {owner}"
        params += counts.params
    eligible = "l.created_at <= %s" if as_of else "l.status = 'open'"
    return f"{joins} WHERE {eligible}{where}", params


def score_select(
    rules: Sequence[Rule],
    target: str,
    now: datetime.datetime,
    lead_filter: tuple[str, list[Any]],
    *,
    per_rule: bool = False,
    as_of: bool = False,
    interaction_filter: tuple[str, list[Any]] | None = None,
) -> tuple[str, list[Any]]:
    """``SELECT lead_id, score`` (or, with ``per_rule``, ``lead_id, n0, n1, …``) for the
    eligible leads matching ``lead_filter`` (a condition on ``l``). The interactions are
    counted once per contact (or account) in one aggregate over the leads' interactions;
    ``interaction_filter`` (a condition on ``i``, or on ``ac`` for account models) may name
    that scope directly, e.g. a range of contact ids. With ``as_of``, the scores the model
    would have given at ``now``, a past time: leads that existed then, interactions up to then
    (fields are today's values: there is no field history)."""
    counts = _interaction_counts(rules, target, now, lead_filter, interaction_filter, as_of=as_of)
    terms: list[str] = []
    params: list[Any] = []
    for index, rule in enumerate(rules):
        sql, values = _rule_count(rule, counts)
        terms.append(f"({sql}) AS n{index}" if per_rule else f"{int(rule.points)} * ({sql})")
        params += values
    if per_rule:
        columns = ", ".join(["l.id AS lead_id", *terms])
    else:
        columns = f"l.id AS lead_id, {' + '.join(terms) if terms else '0'} AS score"
    source, source_params = _leads_from(target, counts, as_of=as_of)
    filter_sql, filter_params = lead_filter
    return (
        f"SELECT {columns} FROM {source} AND ({filter_sql})",  # noqa: S608 - built from fixed fragments
        params + source_params + ([now] if as_of else []) + filter_params,
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
