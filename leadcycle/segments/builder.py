"""The segment editor's tree builder: one group of rows, each a contact condition, a block on
the contact's leads, account, opportunities or interactions (with its own conditions), or
membership of another segment — as numbered inputs (``row-2-where-0-op``), read into the
query JSON and back. Deeper trees (groups inside groups) stay editable as JSON.

Like the scoring builder, it only reshapes: the parser judges, and its error paths
(``query.all.2.lead.all.0.op``) name the input (``row-2-where-0-op``) through ``slot``.
"""

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadcycle import expressions
from leadcycle.expressions import FIELDS, OPERATORS, OPERATORS_BY_KIND
from leadcycle.formdata import ExpressionInputs as Where
from leadcycle.formdata import indices, posted, whole_number
from leadcycle.segments.compiler import BLOCKS, GROUPS

ROW_TYPES = {
    "contact": "Contact field",
    "lead": "Has a lead",
    "account": "Its account",
    "opportunity": "Has an opportunity",
    "interaction": "Interactions",
    "segment": "Member of segment",
}
MAX_ROWS = 50
MAX_WHERE = 20


@dataclass
class Row:
    type: str = "contact"
    # contact condition
    field: str = ""
    op: str = "eq"
    value: str = ""
    # block
    has: bool = True
    inner: str = "all"
    where: list[Where] = dataclasses.field(default_factory=list)
    kind: str = ""
    count_op: str = "at_least"
    count: str = "1"
    within_days: str = ""
    # segment
    segment: str = ""


@dataclass
class Tree:
    op: str = "all"
    rows: list[Row] = dataclasses.field(default_factory=list)

    @classmethod
    def from_json(cls, query: object) -> "Tree | None":
        """The builder's view of a query, or None when it is deeper than the builder draws."""
        if query in (None, {}):
            return cls("all", [])
        if not isinstance(query, Mapping) or len(query) != 1 or next(iter(query)) not in GROUPS:
            return None
        op = str(next(iter(query)))
        items = query[op]
        if not isinstance(items, list):
            return None
        rows: list[Row] = []
        for item in items:
            row = _row_from_json(item)
            if row is None:
                return None
            rows.append(row)
        return cls(op, rows)

    @classmethod
    def from_post(cls, data: Mapping[str, Any]) -> "Tree":
        op = str(data.get("op") or "all")
        tree = cls(op if op in GROUPS else "all", [])
        for n in indices(data, r"row-(\d+)-type", MAX_ROWS):
            p = f"row-{n}"
            kind = posted(data, f"{p}-type") or "contact"
            row = Row(
                type=kind if kind in ROW_TYPES else "contact",
                field=posted(data, f"{p}-field"),
                op=posted(data, f"{p}-op") or "eq",
                value=posted(data, f"{p}-value"),
                has=posted(data, f"{p}-has") != "no",
                inner=posted(data, f"{p}-inner") or "all",
                kind=posted(data, f"{p}-kind"),
                count_op=posted(data, f"{p}-count_op") or "at_least",
                count=posted(data, f"{p}-count") or "1",
                within_days=posted(data, f"{p}-within_days"),
                segment=posted(data, f"{p}-segment"),
            )
            for w in indices(data, rf"{p}-where-(\d+)-field", MAX_WHERE):
                row.where.append(
                    Where(
                        posted(data, f"{p}-where-{w}-field"),
                        posted(data, f"{p}-where-{w}-op") or "eq",
                        posted(data, f"{p}-where-{w}-value"),
                    )
                )
            tree.rows.append(row)
        tree.tidy()
        return tree

    def tidy(self) -> None:
        """Every choice one the inputs can show: a field of the row's entity, an operator for
        its type."""
        for row in self.rows:
            if row.inner not in GROUPS:
                row.inner = "all"
            if row.count_op not in ("at_least", "exactly"):
                row.count_op = "at_least"
            if row.type == "contact":
                row.field, row.op = _fix(FIELDS["contact"], row.field, row.op)
            for where in row.where:
                where.field, where.op = _fix(FIELDS.get(row.type, {}), where.field, where.op)

    def to_json(self) -> dict[str, Any]:
        return {self.op: [_row_json(row) for row in self.rows]}

    def edit(self, action: str) -> None:
        """``add-<type>``, ``remove-row-2``, ``add-where-2``, ``remove-where-2-0``."""
        parts = action.split("-")
        try:
            if parts[0] == "add" and len(parts) == 2 and parts[1] in ROW_TYPES:
                if len(self.rows) < MAX_ROWS:
                    row = Row(type=parts[1])
                    if parts[1] == "interaction":
                        row.kind = "email_clicked"
                    self.rows.append(row)
            elif parts[:2] == ["remove", "row"] and len(parts) == 3:
                del self.rows[int(parts[2])]
            elif parts[:2] == ["add", "where"] and len(parts) == 3:
                where = self.rows[int(parts[2])].where
                if len(where) < MAX_WHERE:
                    where.append(Where())
            elif parts[:2] == ["remove", "where"] and len(parts) == 4:
                del self.rows[int(parts[2])].where[int(parts[3])]
        except (IndexError, ValueError):
            return
        self.tidy()

    def layout(self, problems: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
        """Rows as the template draws them (choices, error next to each input) and every
        error slot's name."""
        slots = ["query"]

        def errors(prefix: str, names: tuple[str, ...]) -> dict[str, str]:
            found = {}
            for name in names:
                key = f"{prefix}-{name}" if name else prefix
                slots.append(key)
                found[name or "self"] = problems.get(key, "")
            return found

        drawn = []
        for n, row in enumerate(self.rows):
            prefix = f"row-{n}"
            entity = "contact" if row.type == "contact" else row.type
            where = []
            for w, item in enumerate(row.where):
                wprefix = f"{prefix}-where-{w}"
                where.append({
                    "row": item, "prefix": wprefix, "index": w,
                    **_choices(row.type, item.field),
                    "errors": errors(wprefix, ("field", "op", "value", "")),
                })  # fmt: skip
            drawn.append({
                "row": row, "prefix": prefix, "index": n, "number": n + 1,
                "label": ROW_TYPES[row.type], "where": where,
                **(_choices(entity, row.field) if row.type == "contact" else {}),
                "errors": errors(prefix, ("field", "op", "value", "kind", "count", "within_days",
                                          "segment", "")),
            })  # fmt: skip
        return drawn, slots


def slot(path: str) -> str:
    """``query.all.2.lead.all.0.op`` → ``row-2-where-0-op``; ``query.all.1.count.at_least``
    → ``row-1-count``."""
    match = re.match(r"^query\.(?:all|any|none)\.(\d+)(.*)$", path)
    if not match:
        return "query"
    n, rest = match.groups()
    inner = re.match(r"^\.(?:lead|account|opportunity|interaction)\.(?:all|any|none)\.(\d+)(.*)$",
                     rest)  # fmt: skip
    if inner:
        w, tail = inner.groups()
        return f"row-{n}-where-{w}" + (f"-{tail.lstrip('.').split('.')[0]}" if tail else "")
    tail = rest.lstrip(".").split(".")[0]
    if tail in BLOCKS:
        return f"row-{n}"
    return f"row-{n}" + (f"-{tail}" if tail else "")


def _row_from_json(item: object) -> Row | None:
    if not isinstance(item, Mapping):
        return None
    if "field" in item:
        return Row(
            type="contact",
            field=str(item.get("field") or ""),
            op=str(item.get("op") or "eq"),
            value=expressions.form_text(item.get("value")),
        )
    if "segment" in item:
        return Row(type="segment", segment=expressions.form_text(item.get("segment")))
    block = [k for k in BLOCKS if k in item]
    if len(block) != 1:
        return None
    entity = block[0]
    inner_group = item[entity] or {"all": []}
    if not isinstance(inner_group, Mapping) or len(inner_group) != 1:
        return None
    inner = str(next(iter(inner_group)))
    if inner not in GROUPS or not isinstance(inner_group[inner], list):
        return None
    where: list[Where] = []
    for expression in inner_group[inner]:
        if not isinstance(expression, Mapping) or "field" not in expression:
            return None
        where.append(
            Where(
                str(expression.get("field") or ""),
                str(expression.get("op") or "eq"),
                expressions.form_text(expression.get("value")),
            )
        )
    count = item.get("count") or {"at_least": 1}
    count_op = next(iter(count)) if isinstance(count, Mapping) and count else "at_least"
    return Row(
        type=entity,
        has=item.get("has", True) is not False,
        inner=inner,
        where=where,
        kind=str(item.get("kind") or ""),
        count_op=str(count_op),
        count=expressions.form_text(count.get(count_op) if isinstance(count, Mapping) else 1),
        within_days=expressions.form_text(item.get("within_days")),
    )


def _row_json(row: Row) -> dict[str, Any]:
    if row.type == "contact":
        return expressions.from_form("contact", row.field, row.op, row.value)
    if row.type == "segment":
        return {"segment": whole_number(row.segment)}
    block: dict[str, Any] = {
        row.type: {row.inner: [expressions.from_form(row.type, w.field, w.op, w.value)
                               for w in row.where]},
    }  # fmt: skip
    if not row.has:
        block["has"] = False
    if row.type == "interaction":
        block["kind"] = row.kind
        block["count"] = {row.count_op: whole_number(row.count)}
        if row.within_days.strip():
            block["within_days"] = whole_number(row.within_days)
    return block


def _choices(entity: str, current: str) -> dict[str, Any]:
    fields = FIELDS.get(entity, {})
    spec = fields.get(current)
    kind = spec.kind if spec else "text"
    return {
        "fields": [(name, f.label) for name, f in fields.items()],
        "operators": [(op, OPERATORS[op]) for op in OPERATORS_BY_KIND[kind]],
        "kind": kind,
    }


def _fix(fields: Mapping[str, Any], name: str, op: str) -> tuple[str, str]:
    if name not in fields and fields:
        name = next(iter(fields))
    kind = fields[name].kind if name in fields else "text"
    return name, op if op in OPERATORS_BY_KIND[kind] else "eq"
