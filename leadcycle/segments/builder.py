"""The segment editor's tree builder: a group of rows, each a contact condition, a block on
the contact's leads, account, opportunities or interactions (with its own conditions),
membership of another segment, or a group of such rows (all / any / none of them) — as
numbered inputs read into the query JSON and back. A row's inputs are named by its path:
``row-2-field`` is the top group's third row, ``row-2.0-where-1-op`` the second condition of
the first row inside that (group) row. Groups nest ``MAX_GROUP_DEPTH`` deep; deeper trees, and
groups inside a block's conditions, stay editable as JSON.

Like the scoring builder, it only reshapes: the parser judges, and its error paths
(``query.all.2.lead.all.0.op``) name the input (``row-2-where-0-op``) through ``slot``.
"""

import dataclasses
import re
from collections.abc import Iterator, Mapping
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
    "group": "Group",
}
MAX_ROWS = 50  # in the whole tree
MAX_WHERE = 20
MAX_GROUP_DEPTH = 3  # groups inside the top one


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
    # group: ``inner`` is its all / any / none
    children: list["Row"] = dataclasses.field(default_factory=list)


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
        rows = _rows_from_json(items, depth=0)
        return None if rows is None else cls(op, rows)

    @classmethod
    def from_post(cls, data: Mapping[str, Any]) -> "Tree":
        op = str(data.get("op") or "all")
        tree = cls(op if op in GROUPS else "all", [])
        tree.rows = _rows_from_post(data, "", depth=0, budget=[MAX_ROWS])
        tree.tidy()
        return tree

    def tidy(self) -> None:
        """Every choice one the inputs can show: a field of the row's entity, an operator for
        its type."""
        for row in _walk(self.rows):
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

    def find(self, path: str) -> Row:
        """The row at ``2.0`` (IndexError, ValueError when there is none)."""
        rows, row = self.rows, None
        for part in path.split("."):
            row = rows[int(part)]
            rows = row.children
        if row is None:
            raise IndexError(path)
        return row

    def edit(self, action: str) -> None:
        """``add-<type>`` (to the top group), ``add-<type>-in-2.0`` (to the group row at that
        path), ``remove-row-2.0``, ``add-where-2``, ``remove-where-2-0``."""
        parts = action.split("-")
        try:
            if parts[0] == "add" and parts[1] in ROW_TYPES and len(parts) in (2, 4):
                self._add(parts[1], parts[3] if len(parts) == 4 and parts[2] == "in" else "")
            elif parts[:2] == ["remove", "row"] and len(parts) == 3:
                parent, _, last = parts[2].rpartition(".")
                siblings = self.find(parent).children if parent else self.rows
                del siblings[int(last)]
            elif parts[:2] == ["add", "where"] and len(parts) == 3:
                where = self.find(parts[2]).where
                if len(where) < MAX_WHERE:
                    where.append(Where())
            elif parts[:2] == ["remove", "where"] and len(parts) == 4:
                del self.find(parts[2]).where[int(parts[3])]
        except (IndexError, ValueError):
            return
        self.tidy()

    def _add(self, kind: str, path: str) -> None:
        if sum(1 for _ in _walk(self.rows)) >= MAX_ROWS:
            return
        if path:
            group = self.find(path)
            if group.type != "group":
                return
            siblings, depth = group.children, path.count(".") + 1
        else:
            siblings, depth = self.rows, 0
        if kind == "group" and depth >= MAX_GROUP_DEPTH:
            return
        row = Row(type=kind)
        if kind == "interaction":
            row.kind = "email_clicked"
        if kind == "group":
            row.inner = "any"
        siblings.append(row)

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

        def draw(rows: list[Row], parent: str) -> list[dict[str, Any]]:
            drawn = []
            for n, row in enumerate(rows):
                path = f"{parent}.{n}" if parent else str(n)
                prefix = f"row-{path}"
                where = []
                for w, item in enumerate(row.where):
                    wprefix = f"{prefix}-where-{w}"
                    where.append({
                        "row": item, "prefix": wprefix, "index": w,
                        **_choices(row.type, item.field),
                        "errors": errors(wprefix, ("field", "op", "value", "")),
                    })  # fmt: skip
                drawn.append({
                    "row": row, "prefix": prefix, "path": path,
                    "number": ".".join(str(int(p) + 1) for p in path.split(".")),
                    "label": ROW_TYPES[row.type], "where": where,
                    "children": draw(row.children, path) if row.type == "group" else [],
                    "can_nest": path.count(".") + 1 < MAX_GROUP_DEPTH,
                    **(_choices("contact", row.field) if row.type == "contact" else {}),
                    "errors": errors(prefix, ("field", "op", "value", "kind", "count",
                                              "within_days", "segment", "")),
                })  # fmt: skip
            return drawn

        return draw(self.rows, ""), slots


INPUTS = ("field", "op", "value", "kind", "count", "within_days", "segment")


def slot(path: str) -> str:
    """The input an error path names: ``query.all.2.lead.all.0.op`` → ``row-2-where-0-op``,
    ``query.all.1.count.at_least`` → ``row-1-count``, ``query.all.2.any.0.value`` →
    ``row-2.0-value``; the row itself when no input of it is at fault."""
    parts = path.split(".")
    if parts[0] != "query":
        return "query"
    rows: list[str] = []
    i = 1
    while i + 1 < len(parts) and parts[i] in GROUPS and parts[i + 1].isdigit():
        rows.append(parts[i + 1])
        i += 2
    if not rows:
        return "query"
    prefix = "row-" + ".".join(rows)
    rest = parts[i:]
    if rest and rest[0] in BLOCKS:
        if len(rest) >= 3 and rest[1] in GROUPS and rest[2].isdigit():
            tail = rest[3] if len(rest) > 3 and rest[3] in INPUTS else ""
            return f"{prefix}-where-{rest[2]}" + (f"-{tail}" if tail else "")
        return prefix
    return prefix + (f"-{rest[0]}" if rest and rest[0] in INPUTS else "")


def _walk(rows: list[Row]) -> Iterator[Row]:
    for row in rows:
        yield row
        yield from _walk(row.children)


def _rows_from_post(
    data: Mapping[str, Any], parent: str, *, depth: int, budget: list[int]
) -> list[Row]:
    """The rows under ``parent`` (a path, "" for the top group); ``budget`` counts down the
    rows one post may make."""
    rows = []
    base = f"{parent}." if parent else ""
    for n in indices(data, rf"row-{re.escape(base)}(\d+)-type", MAX_ROWS):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        path = f"{base}{n}"
        p = f"row-{path}"
        kind = posted(data, f"{p}-type") or "contact"
        if kind == "group" and depth >= MAX_GROUP_DEPTH:
            continue
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
        for w in indices(data, rf"{re.escape(p)}-where-(\d+)-field", MAX_WHERE):
            row.where.append(
                Where(
                    posted(data, f"{p}-where-{w}-field"),
                    posted(data, f"{p}-where-{w}-op") or "eq",
                    posted(data, f"{p}-where-{w}-value"),
                )
            )
        if row.type == "group":
            row.children = _rows_from_post(data, path, depth=depth + 1, budget=budget)
        rows.append(row)
    return rows


def _rows_from_json(items: list[Any], *, depth: int) -> list[Row] | None:
    rows: list[Row] = []
    for item in items:
        row = _row_from_json(item, depth)
        if row is None:
            return None
        rows.append(row)
    return rows


def _row_from_json(item: object, depth: int) -> Row | None:
    if not isinstance(item, Mapping):
        return None
    if len(item) == 1 and next(iter(item)) in GROUPS:
        op = str(next(iter(item)))
        if depth >= MAX_GROUP_DEPTH or not isinstance(item[op], list):
            return None
        children = _rows_from_json(item[op], depth=depth + 1)
        return None if children is None else Row(type="group", inner=op, children=children)
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
    if row.type == "group":
        return {row.inner: [_row_json(child) for child in row.children]}
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
