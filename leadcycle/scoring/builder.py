"""The scoring model editor's rule builder: rules, their conditions, the conditions'
expressions and the grades as numbered form inputs (``rule-0-cond-1-where-0-op``), read into
the JSON shape the API takes and back.

The builder only reshapes input; the compiler judges it. A value is converted by its field's
type where it can be (``"12"`` for a number field becomes 12, ``"a, b"`` for *in* becomes a
list); where it cannot, the text goes to the compiler as typed, so the error the user sees is
the compiler's, named by its path (``rules.0.conditions.1.where.0.value``), which ``slot``
turns back into the input's name.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadcycle import expressions
from leadcycle.expressions import FIELDS, OPERATORS, OPERATORS_BY_KIND
from leadcycle.formdata import ExpressionInputs as ExpressionRow
from leadcycle.formdata import indices, posted, whole_number
from leadcycle.scoring.compiler import ENTITIES, FREQUENCIES

# Enough for any real model, and a bound on what one request can make us build.
MAX_RULES = 100
MAX_CONDITIONS = 20
MAX_EXPRESSIONS = 20
MAX_GRADES = 20

FREQUENCY_LABELS = {
    "at_least": "at least one",
    "each": "each occurrence counts",
    "none": "none",
}


@dataclass
class ConditionRow:
    entity: str = ""
    kind: str = ""
    frequency: str = "at_least"
    within_days: str = ""
    where: list[ExpressionRow] = field(default_factory=list)


@dataclass
class RuleRow:
    name: str = ""
    points: str = ""
    conditions: list[ConditionRow] = field(default_factory=list)


@dataclass
class GradeRow:
    name: str = ""
    min: str = ""
    max: str = ""


@dataclass
class Builder:
    """What the editor shows: the model's rules and grades as the user is writing them."""

    target: str
    rules: list[RuleRow]
    grades: list[GradeRow]

    # Reading and writing the API's JSON ------------------------------------------------

    @classmethod
    def from_json(cls, target: str, rules: Sequence[Any], grades: Sequence[Any]) -> "Builder":
        rows = [
            RuleRow(
                name=str(rule.get("name") or ""),
                points=expressions.form_text(rule.get("points")),
                conditions=[
                    ConditionRow(
                        entity=str(c.get("entity") or ""),
                        kind=str(c.get("kind") or ""),
                        frequency=str(c.get("frequency") or "at_least"),
                        within_days=expressions.form_text(c.get("within_days")),
                        where=[
                            ExpressionRow(
                                field=str(e.get("field") or ""),
                                op=str(e.get("op") or "eq"),
                                value=expressions.form_text(e.get("value")),
                            )
                            for e in c.get("where") or []
                            if isinstance(e, Mapping)
                        ],
                    )
                    for c in rule.get("conditions") or []
                    if isinstance(c, Mapping)
                ],
            )
            for rule in rules
            if isinstance(rule, Mapping)
        ]
        grade_rows = [
            GradeRow(
                str(g.get("name") or ""),
                expressions.form_text(g.get("min")),
                expressions.form_text(g.get("max")),
            )
            for g in grades
            if isinstance(g, Mapping)
        ]
        return cls(target if target in ENTITIES else "contact", rows, grade_rows)

    def rules_json(self) -> list[dict[str, Any]]:
        return [
            {
                "name": rule.name.strip(),
                "points": whole_number(rule.points),
                "conditions": [self._condition_json(c) for c in rule.conditions],
            }
            for rule in self.rules
        ]

    def _condition_json(self, row: ConditionRow) -> dict[str, Any]:
        condition: dict[str, Any] = {
            "entity": row.entity,
            "where": [_expression_json(row.entity, e) for e in row.where],
        }
        if row.entity == "interaction":
            condition["kind"] = row.kind
            condition["frequency"] = row.frequency or "at_least"
            if row.within_days.strip():
                condition["within_days"] = whole_number(row.within_days)
        return condition

    def grades_json(self) -> list[dict[str, Any]]:
        return [
            {"name": g.name.strip(), "min": whole_number(g.min), "max": whole_number(g.max)}
            for g in self.grades
        ]

    # Reading the form ---------------------------------------------------------------------

    @classmethod
    def from_post(cls, data: Mapping[str, Any]) -> "Builder":
        target = str(data.get("target") or "contact")
        builder = cls(target if target in ENTITIES else "contact", [], [])
        for r in indices(data, r"rule-(\d+)-name", MAX_RULES):
            rule = RuleRow(
                name=posted(data, f"rule-{r}-name"), points=posted(data, f"rule-{r}-points")
            )
            for c in indices(data, rf"rule-{r}-cond-(\d+)-entity", MAX_CONDITIONS):
                prefix = f"rule-{r}-cond-{c}"
                condition = ConditionRow(
                    entity=posted(data, f"{prefix}-entity"),
                    kind=posted(data, f"{prefix}-kind"),
                    frequency=posted(data, f"{prefix}-frequency") or "at_least",
                    within_days=posted(data, f"{prefix}-within_days"),
                )
                for w in indices(data, rf"{prefix}-where-(\d+)-field", MAX_EXPRESSIONS):
                    condition.where.append(
                        ExpressionRow(
                            field=posted(data, f"{prefix}-where-{w}-field"),
                            op=posted(data, f"{prefix}-where-{w}-op") or "eq",
                            value=posted(data, f"{prefix}-where-{w}-value"),
                        )
                    )
                rule.conditions.append(condition)
            builder.rules.append(rule)
        for g in indices(data, r"grade-(\d+)-name", MAX_GRADES):
            builder.grades.append(
                GradeRow(
                    posted(data, f"grade-{g}-name"),
                    posted(data, f"grade-{g}-min"),
                    posted(data, f"grade-{g}-max"),
                )
            )
        builder.tidy()
        return builder

    def tidy(self) -> None:
        """Make every choice one the inputs can show: an entity this model can use, a field
        of that entity and an operator for that field's type."""
        allowed = ENTITIES[self.target]
        for rule in self.rules:
            for condition in rule.conditions:
                if not condition.entity:
                    condition.entity = allowed[1]
                if condition.frequency not in FREQUENCIES:
                    condition.frequency = "at_least"
                fields = FIELDS.get(condition.entity, {})
                for expression in condition.where:
                    # A select offers only known fields: one that is not (the entity
                    # changed) becomes the entity's first.
                    if expression.field not in fields and fields:
                        expression.field = next(iter(fields))
                    kind = fields[expression.field].kind if expression.field in fields else ""
                    if kind and expression.op not in OPERATORS_BY_KIND[kind]:
                        expression.op = "eq"

    # Editing --------------------------------------------------------------------------------

    def edit(self, action: str) -> None:
        """One structural change asked for by a button: ``add-rule``, ``remove-rule-2``,
        ``add-cond-0``, ``remove-cond-0-1``, ``add-where-0-1``, ``remove-where-0-1-2``,
        ``add-grade``, ``remove-grade-1``. Indices that no longer exist are ignored."""
        verb, _, rest = action.partition("-")
        what, _, numbers = rest.partition("-")
        try:
            at = [int(n) for n in numbers.split("-")] if numbers else []
        except ValueError:
            return
        try:
            self._edit(verb, what, at)
        except IndexError:
            return
        self.tidy()

    def _edit(self, verb: str, what: str, at: list[int]) -> None:
        first = ENTITIES[self.target][1]
        if what == "rule" and verb == "add" and len(self.rules) < MAX_RULES:
            self.rules.append(RuleRow(points="10", conditions=[ConditionRow(entity=first)]))
        elif what == "rule" and verb == "remove" and len(at) == 1:
            del self.rules[at[0]]
        elif what == "cond" and verb == "add" and len(at) == 1:
            conditions = self.rules[at[0]].conditions
            if len(conditions) < MAX_CONDITIONS:
                conditions.append(ConditionRow(entity=first))
        elif what == "cond" and verb == "remove" and len(at) == 2:
            del self.rules[at[0]].conditions[at[1]]
        elif what == "where" and verb == "add" and len(at) == 2:
            where = self.rules[at[0]].conditions[at[1]].where
            if len(where) < MAX_EXPRESSIONS:
                where.append(ExpressionRow())
        elif what == "where" and verb == "remove" and len(at) == 3:
            del self.rules[at[0]].conditions[at[1]].where[at[2]]
        elif what == "grade" and verb == "add" and len(self.grades) < MAX_GRADES:
            self.grades.append(GradeRow())
        elif what == "grade" and verb == "remove" and len(at) == 1:
            del self.grades[at[0]]


def layout(builder: Builder, problems: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """What the builder template draws: every row with its input-name prefix, the choices
    its inputs offer and the error next to each input (``problems`` by slot); and the names
    of every error slot, so the live check can clear the ones that are fine again."""
    slots: list[str] = ["rules", "grades"]

    def errors(prefix: str, names: Sequence[str]) -> dict[str, str]:
        found = {}
        for name in names:
            key = f"{prefix}-{name}" if name else prefix
            slots.append(key)
            found[name or "self"] = problems.get(key, "")
        return found

    allowed = ENTITIES[builder.target]
    rules = []
    for r, rule in enumerate(builder.rules):
        prefix = f"rule-{r}"
        conditions = []
        for c, condition in enumerate(rule.conditions):
            cprefix = f"{prefix}-cond-{c}"
            fields = FIELDS.get(condition.entity, {})
            where = []
            for w, expression in enumerate(condition.where):
                eprefix = f"{cprefix}-where-{w}"
                spec = fields.get(expression.field)
                kind = spec.kind if spec else "text"
                where.append(
                    {
                        "row": expression,
                        "prefix": eprefix,
                        "index": w,
                        "kind": kind,
                        "fields": [(name, f.label) for name, f in fields.items()],
                        "operators": [(op, OPERATORS[op]) for op in OPERATORS_BY_KIND[kind]],
                        "errors": errors(eprefix, ("field", "op", "value", "")),
                    }
                )
            conditions.append(
                {
                    "row": condition,
                    "prefix": cprefix,
                    "index": c,
                    "allowed": condition.entity in allowed,
                    "where": where,
                    "errors": errors(
                        cprefix, ("entity", "kind", "frequency", "within_days", "where", "")
                    ),
                }
            )
        rules.append(
            {
                "row": rule,
                "prefix": prefix,
                "index": r,
                "number": r + 1,
                "conditions": conditions,
                "errors": errors(prefix, ("name", "points", "conditions", "")),
            }
        )
    grades = [
        {
            "row": grade,
            "prefix": f"grade-{g}",
            "index": g,
            "errors": errors(f"grade-{g}", ("name", "min", "max", "")),
        }
        for g, grade in enumerate(builder.grades)
    ]
    tree = {
        "rules": rules,
        "grades": grades,
        "rules_error": problems.get("rules", ""),
        "grades_error": problems.get("grades", ""),
    }
    return tree, slots


def slot(path: str) -> str:
    """The input (or the place next to a group of inputs) that an error path points at:
    ``rules.0.conditions.1.where.0.op`` → ``rule-0-cond-1-where-0-op``."""
    name = re.sub(r"^rules\.(\d+)", r"rule-\1", path)
    name = re.sub(r"^grades\.(\d+)", r"grade-\1", name)
    name = name.replace(".conditions.", "-cond-").replace(".where.", "-where-")
    return name.replace(".", "-")


_PARTS = {
    "rules": "Rule",
    "conditions": "condition",
    "where": "expression",
    "grades": "Grade",
}


def describe(path: str) -> str:
    """An error path in words: ``rules.0.conditions.1.op`` → ``Rule 1, condition 2, op``."""
    words: list[str] = []
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in _PARTS and i + 1 < len(parts) and parts[i + 1].isdigit():
            words.append(f"{_PARTS[part]} {int(parts[i + 1]) + 1}")
            i += 2
            continue
        words.append({"op": "operator", "within_days": "within days"}.get(part, part))
        i += 1
    return ", ".join(words)


def _expression_json(entity: str, row: ExpressionRow) -> dict[str, Any]:
    return expressions.from_form(entity, row.field, row.op, row.value)
