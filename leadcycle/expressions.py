"""The one expression language of scoring models, segments and workflows.

An expression is ``{"field": "job_title", "op": "contains", "value": "chief"}`` on one entity
(``lead``, ``contact``, ``account``, ``interaction`` or ``opportunity``). Fields come from
``FIELDS``, a whitelist naming each field's column and type; operators from ``OPERATORS``.
``compile_sql`` turns an expression into a SQL condition on a table alias with its values as
parameters, so no user string ever reaches SQL; ``evaluate`` gives the same answer in Python
(for tests and explanations). Bad input raises ``ValidationError`` naming the part at fault.
"""

import datetime
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class FieldSpec:
    column: str
    kind: str  # text, number, boolean, date
    label: str


def _text(column: str, label: str) -> FieldSpec:
    return FieldSpec(column, "text", label)


FIELDS: dict[str, dict[str, FieldSpec]] = {
    "lead": {
        "topic": _text("topic", "Topic"),
        "campaign": _text("campaign", "Campaign"),
        "source_channel": _text("source_channel", "Source channel"),
        "status": _text("status", "Status"),
        "telemarketing_ready": FieldSpec("telemarketing_ready", "boolean", "Telemarketing-ready"),
        "sales_ready": FieldSpec("sales_ready", "boolean", "Sales-ready"),
        "parent_contact": FieldSpec("parent_contact_id", "number", "Parent contact (id)"),
        "email": _text("email", "Email (as entered on the lead)"),
        "company_name": _text("company_name", "Company (as entered on the lead)"),
        "created_at": FieldSpec("created_at", "date", "Created"),
    },
    "contact": {
        "job_title": _text("job_title", "Job title"),
        "role": _text("role", "Role"),
        "country": _text("country", "Country"),
        "email": _text("email_normalized", "Email"),
        "consent": _text("consent", "Consent"),
        "origin_channel": _text("origin_channel", "Origin channel"),
        "marketing_only": FieldSpec("marketing_only", "boolean", "Marketing-only"),
    },
    "account": {
        "name": _text("name", "Name"),
        "industry": _text("industry", "Industry"),
        "country": _text("country", "Country"),
        "web_domain": _text("web_domain", "Web domain"),
        "employees": FieldSpec("employees", "number", "Employees"),
        "annual_revenue": FieldSpec("annual_revenue", "number", "Annual revenue"),
    },
    "interaction": {
        "campaign": _text("campaign", "Campaign"),
    },
    "opportunity": {
        "name": _text("name", "Name"),
        "stage": _text("stage", "Stage"),
        "value": FieldSpec("value", "number", "Value"),
        "created_at": FieldSpec("created_at", "date", "Created"),
    },
}

OPERATORS: dict[str, str] = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "in",
    "is_empty": "is empty",
}
# Which operators apply to a field of each type (what the builders offer).
OPERATORS_BY_KIND: dict[str, list[str]] = {
    "text": list(OPERATORS),
    "number": [op for op in OPERATORS if op not in ("contains", "starts_with")],
    "date": [op for op in OPERATORS if op not in ("contains", "starts_with")],
    "boolean": ["eq", "ne", "is_empty"],
}
_ORDERED = {"lt", "le", "gt", "ge"}
_TEXT_ONLY = {"contains", "starts_with"}
_SQL_COMPARISON = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


@dataclass(frozen=True)
class Expression:
    entity: str
    field: str
    op: str
    value: Any

    @property
    def spec(self) -> FieldSpec:
        return FIELDS[self.entity][self.field]


def _error(path: str, message: str, code: str) -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


def parse(entity: str, raw: object, path: str) -> Expression:
    """Check one expression; ``path`` names it in errors (``rules.0.conditions.1.where.0``)."""
    if not isinstance(raw, Mapping):
        raise _error(path, "An expression is an object with field, op and value.", "invalid")
    fields = FIELDS.get(entity)
    if fields is None:
        raise _error(path, f"Unknown entity {entity!r}.", "unknown_entity")
    name, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if not isinstance(name, str) or name not in fields:
        raise _error(
            f"{path}.field",
            f"Unknown field {name!r} of {entity}; one of: {', '.join(sorted(fields))}.",
            "unknown_field",
        )
    if not isinstance(op, str) or op not in OPERATORS:
        raise _error(
            f"{path}.op",
            f"Unknown operator {op!r}; one of: {', '.join(OPERATORS)}.",
            "unknown_operator",
        )
    kind = fields[str(name)].kind
    if op in _TEXT_ONLY and kind != "text":
        raise _error(f"{path}.op", f"{op} applies to text fields only.", "type_mismatch")
    if op in _ORDERED and kind == "boolean":
        raise _error(f"{path}.op", f"{op} does not apply to yes/no fields.", "type_mismatch")
    if op == "is_empty":
        value = None
    elif op == "in":
        if not isinstance(value, list) or not value:
            raise _error(f"{path}.value", "in takes a non-empty list.", "type_mismatch")
        value = [_value(kind, v, f"{path}.value") for v in value]
    else:
        value = _value(kind, value, f"{path}.value")
    return Expression(entity, str(name), str(op), value)


def _value(kind: str, value: object, path: str) -> Any:
    if kind == "text":
        if not isinstance(value, str):
            raise _error(path, "Expected text.", "type_mismatch")
        if not value.strip():
            # An empty value would mean "empty" to some and "anything" (contains) to others.
            raise _error(path, "Give a value; for no value, use “is empty”.", "required")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _error(path, "Expected true or false.", "type_mismatch")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _error(path, "Expected a number.", "type_mismatch")
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise _error(path, "Expected a date, e.g. 2026-11-30.", "type_mismatch")
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            raise _error(path, "Expected a date, e.g. 2026-11-30.", "type_mismatch") from None
        if not datetime.date(1900, 1, 1) <= day <= datetime.date(9000, 12, 31):
            # Comparisons use the next day; the year 9999 has none.
            raise _error(path, "A date between 1900 and 9000.", "out_of_range")
        return day
    raise _error(path, f"Unsupported field type {kind}.", "type_mismatch")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_sql(expression: Expression, alias: str) -> tuple[str, list[Any]]:
    """A SQL condition on ``alias`` (a table alias written by the caller, never user input)
    and its parameters. Text compares case-insensitively, as people expect of a CRM; a NULL
    column is empty."""
    spec, op, value = expression.spec, expression.op, expression.value
    column = f"{alias}.{spec.column}"
    if spec.kind == "text":
        lowered = f"LOWER(COALESCE({column}, ''))"
        if op == "is_empty":
            return f"COALESCE({column}, '') = ''", []
        if op == "contains":
            return f"{lowered} LIKE %s ESCAPE '\\'", [f"%{_like_escape(value.lower())}%"]
        if op == "starts_with":
            return f"{lowered} LIKE %s ESCAPE '\\'", [f"{_like_escape(value.lower())}%"]
        if op == "in":
            marks = ", ".join(["%s"] * len(value))
            return f"{lowered} IN ({marks})", [v.lower() for v in value]
        return f"{lowered} {_SQL_COMPARISON[op]} %s", [value.lower()]
    if op == "is_empty":
        return f"{column} IS NULL", []
    # An empty (NULL) value matches no comparison: false, not SQL's unknown, so that a NOT
    # around it (a segment's "none" group) turns it into true, as in Python.
    sql, params = _non_text_sql(spec.kind, column, op, value)
    return f"({column} IS NOT NULL AND {sql})", params


def _non_text_sql(kind: str, column: str, op: str, value: Any) -> tuple[str, list[Any]]:
    if op == "in":
        marks = ", ".join(["%s"] * len(value))
        return f"{column} IN ({marks})", list(value)
    if kind == "date":
        # Dates compare with the day the timestamp falls on (UTC).
        day = value
        if op in ("eq", "ne"):
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
            end = start + datetime.timedelta(days=1)
            sql = f"({column} >= %s AND {column} < %s)"
            return (sql if op == "eq" else f"NOT {sql}"), [start, end]
        bound = datetime.datetime.combine(
            day + datetime.timedelta(days=1) if op in ("le", "gt") else day,
            datetime.time(),
            tzinfo=datetime.UTC,
        )
        sql_op = {"lt": "<", "le": "<", "gt": ">=", "ge": ">="}[op]
        return f"{column} {sql_op} %s", [bound]
    return f"{column} {_SQL_COMPARISON[op]} %s", [value]


def evaluate(expression: Expression, record: Mapping[str, Any]) -> bool:
    """The same test as ``compile_sql``, on a record's values keyed by column name."""
    spec, op, value = expression.spec, expression.op, expression.value
    actual = record.get(spec.column)
    if spec.kind == "text":
        text = (actual or "").lower()
        if op == "is_empty":
            return text == ""
        if op == "contains":
            return value.lower() in text
        if op == "starts_with":
            return text.startswith(value.lower())
        if op == "in":
            return text in {v.lower() for v in value}
        return _compare(op, text, value.lower())
    if op == "is_empty":
        return actual is None
    if actual is None:
        return False
    if spec.kind == "date":
        actual = actual.astimezone(datetime.UTC).date()
    if isinstance(actual, decimal.Decimal):
        actual = float(actual)
    if op == "in":
        return actual in value
    return _compare(op, actual, value)


def _compare(op: str, left: Any, right: Any) -> bool:
    return bool(
        {
            "eq": left == right,
            "ne": left != right,
            "lt": left < right,
            "le": left <= right,
            "gt": left > right,
            "ge": left >= right,
        }[op]
    )


# Forms ---------------------------------------------------------------------------------------


def form_text(value: object) -> str:
    """An expression's value as an input shows it: lists comma-separated, yes/no as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(form_text(v) for v in value)
    return str(value)


def from_form(entity: str, field: str, op: str, text: str) -> dict[str, Any]:
    """An expression from form inputs, its value typed by the field (``"500"`` for a number
    field becomes 500, ``"a, b"`` for *in* a list); text that does not convert is kept for
    ``parse`` to refuse with its own message."""
    spec = FIELDS.get(entity, {}).get(field)
    expression: dict[str, Any] = {"field": field, "op": op}
    if op == "is_empty":
        return expression
    kind = spec.kind if spec else "text"
    if op == "in":
        expression["value"] = [
            _typed(kind, part.strip()) for part in text.split(",") if part.strip()
        ]
    else:
        expression["value"] = _typed(kind, text if kind == "text" else text.strip())
    return expression


def _typed(kind: str, text: str) -> Any:
    if kind == "number":
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
        return text
    if kind == "boolean":
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    return text
