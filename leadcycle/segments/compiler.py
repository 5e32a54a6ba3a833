"""From a segment's query tree to one SQL condition on contacts (alias ``c``), and the same
answer in Python for tests.

The tree (JSON)::

    {"all": [                                   # a group: "all" (AND), "any" (OR), "none" (NOT OR)
        {"field": "role", "op": "eq", "value": "decision_maker"},      # a contact condition
        {"lead": {"all": [{"field": "topic", "op": "eq", "value": "Contoso Ltd Conference"}]}},
        {"account": {"all": [{"field": "industry", "op": "eq", "value": "Software"}]}},
        {"opportunity": {"all": []}, "has": false},                    # has no opportunity
        {"interaction": {"all": []}, "kind": "email_clicked",
         "count": {"at_least": 3}, "within_days": 90},
        {"segment": 7}                                                 # a member of segment 7
    ]}

A block (``lead``, ``account``, ``opportunity``, ``interaction``) holds a group of conditions on
that entity; ``has: false`` turns it into "has none". Leads are the contact's (parent contact),
the account the contact's, opportunities the contact's, interactions the contact's, counted
``at_least`` or ``exactly`` N times, optionally within the last N days. Every path ends on
contacts. Expressions, fields and operators are those of ``leadcycle.expressions`` (the ones
scoring uses); every value is a parameter. Errors name the node: ``all.1.lead.all.0.field``.
"""

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from leadcycle import expressions
from leadcycle.expressions import Expression

GROUPS = ("all", "any", "none")
BLOCKS = {
    # entity: (table, alias, how a row belongs to contact c)
    "lead": ("crm_lead", "l", "l.parent_contact_id = c.id"),
    "account": ("crm_account", "a", "a.id = c.account_id"),
    "opportunity": ("crm_opportunity", "o", "o.contact_id = c.id"),
    "interaction": ("crm_interaction", "i", "i.contact_id = c.id"),
}
MAX_DEPTH = 6
MAX_NODES = 200
MAX_DAYS = 3650


@dataclass(frozen=True)
class Group:
    op: str  # all, any, none
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Block:
    entity: str
    where: Group
    has: bool = True
    kind: str = ""
    count_op: str = "at_least"  # at_least, exactly
    count: int = 1
    within_days: int | None = None


@dataclass(frozen=True)
class SegmentRef:
    segment_id: int


Node = Group | Block | Expression | SegmentRef


def _error(path: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({path: ValidationError(message, code=code)})


class Parser:
    """Checks a tree; ``kinds`` are the interaction kinds known, ``segments`` the ids of the
    segments a query may refer to."""

    def __init__(self, kinds: Mapping[str, str], segments: Callable[[int], bool]) -> None:
        self.kinds = kinds
        self.segments = segments
        self.nodes = 0
        self.references: set[int] = set()

    def parse(self, raw: object) -> Group:
        if raw in (None, {}):
            return Group("all", ())
        group = self._group(raw, "", entity="contact", depth=0)
        return group

    def _group(self, raw: object, path: str, *, entity: str, depth: int) -> Group:
        if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in GROUPS:
            raise _error(
                path or "query",
                'A group is {"all": [...]}, {"any": [...]} or {"none": [...]}.',
                "invalid_group",
            )
        op = str(next(iter(raw)))
        items = raw[op]
        here = f"{path}.{op}" if path else op
        if not isinstance(items, list):
            raise _error(here, "A list of conditions.", "invalid_group")
        if depth > MAX_DEPTH:
            raise _error(here, f"At most {MAX_DEPTH} levels of groups.", "too_deep")
        children = tuple(
            self._node(item, f"{here}.{n}", entity=entity, depth=depth)
            for n, item in enumerate(items)
        )
        return Group(op, children)

    def _node(self, raw: object, path: str, *, entity: str, depth: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(path, f"At most {MAX_NODES} conditions.", "too_large")
        if not isinstance(raw, Mapping):
            raise _error(path, "A condition, block or group (an object).", "invalid")
        if len(raw) == 1 and next(iter(raw)) in GROUPS:
            return self._group(raw, path, entity=entity, depth=depth + 1)
        if "field" in raw:
            return expressions.parse(entity, raw, path)
        if "segment" in raw:
            if entity != "contact":
                raise _error(f"{path}.segment", "Segments hold contacts: use them at the top.")
            return self._segment(raw, path)
        block = [key for key in BLOCKS if key in raw]
        if len(block) != 1:
            raise _error(
                path,
                "Unknown condition: give a field, a block (lead, account, "
                "opportunity, interaction), a segment or a group.",
                "unknown_node",
            )
        if entity != "contact":
            raise _error(
                f"{path}.{block[0]}",
                "Blocks hang off the contact: use them at the "
                "top or in a group of contact conditions.",
                "too_far",
            )
        return self._block(block[0], raw, path, depth)

    def _segment(self, raw: Mapping[str, Any], path: str) -> SegmentRef:
        value = raw["segment"]
        if isinstance(value, bool) or not isinstance(value, int) or not self.segments(value):
            raise _error(f"{path}.segment", f"No segment {value!r}.", "unknown_segment")
        unknown = set(raw) - {"segment"}
        if unknown:
            raise _error(f"{path}.{sorted(unknown)[0]}", "Unknown key.", "unknown_field")
        self.references.add(value)
        return SegmentRef(value)

    def _block(self, entity: str, raw: Mapping[str, Any], path: str, depth: int) -> Block:
        allowed = {entity, "has"} | (
            {"kind", "count", "within_days"} if entity == "interaction" else set()
        )
        unknown = set(raw) - allowed
        if unknown:
            name = sorted(unknown)[0]
            raise _error(
                f"{path}.{name}", f"Unknown key {name!r} for a {entity} block.", "unknown_field"
            )
        where = self._group(
            raw[entity] or {"all": []}, f"{path}.{entity}", entity=entity, depth=depth + 1
        )
        has = raw.get("has", True)
        if not isinstance(has, bool):
            raise _error(f"{path}.has", "true or false.", "type_mismatch")
        if entity != "interaction":
            return Block(entity, where, has)
        kind = raw.get("kind")
        if kind not in self.kinds:
            raise _error(f"{path}.kind", f"Unknown interaction kind {kind!r}.", "unknown_kind")
        count = raw.get("count") or {"at_least": 1}
        if (
            not isinstance(count, Mapping)
            or len(count) != 1
            or next(iter(count)) not in ("at_least", "exactly")
        ):
            raise _error(
                f"{path}.count", 'A count is {"at_least": N} or {"exactly": N}.', "invalid_count"
            )
        count_op = str(next(iter(count)))
        n = count[count_op]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1_000_000:
            raise _error(f"{path}.count.{count_op}", "A whole number from 0.", "type_mismatch")
        days = raw.get("within_days")
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS
        ):
            raise _error(f"{path}.within_days", f"A number of days from 1 to {MAX_DAYS}.")
        return Block(entity, where, has, str(kind), count_op, n, days)


# SQL -------------------------------------------------------------------------------------


def compile_sql(
    group: Group, *, now: datetime.datetime, members_table: str = "segments_segmentmember"
) -> tuple[str, list[Any]]:
    """A condition on contact alias ``c``, with its parameters."""
    return _group_sql(group, "c", now, members_table)


def _group_sql(
    group: Group, alias: str, now: datetime.datetime, members: str
) -> tuple[str, list[Any]]:
    if not group.children:
        return ("1 = 0" if group.op == "any" else "1 = 1"), []
    parts: list[str] = []
    params: list[Any] = []
    for child in group.children:
        sql, values = _node_sql(child, alias, now, members)
        parts.append(f"({sql})")
        params += values
    joiner = " AND " if group.op == "all" else " OR "
    sql = joiner.join(parts)
    return (f"NOT ({sql})" if group.op == "none" else sql), params


def _node_sql(
    node: Node, alias: str, now: datetime.datetime, members: str
) -> tuple[str, list[Any]]:
    if isinstance(node, Group):
        return _group_sql(node, alias, now, members)
    if isinstance(node, Expression):
        return expressions.compile_sql(node, alias)
    if isinstance(node, SegmentRef):
        return (
            f"EXISTS (SELECT 1 FROM {members} sm WHERE sm.segment_id = %s"  # noqa: S608 - fixed table name
            " AND sm.contact_id = c.id)",
            [node.segment_id],
        )
    table, inner, link = BLOCKS[node.entity]
    where, params = _group_sql(node.where, inner, now, members)
    tests = [link, f"({where})"]
    if node.entity == "interaction":
        tests.insert(1, f"{inner}.kind = %s")
        params = [node.kind, *params]
        if node.within_days is not None:
            tests.insert(2, f"{inner}.occurred_at >= %s")
            params.insert(1, now - datetime.timedelta(days=node.within_days))
        body = " AND ".join(tests)
        if not (node.count_op == "at_least" and node.count <= 1):
            # The contacts with the count, found once by grouping the matching interactions
            # (a count per contact, correlated, costs a probe per contact in the table).
            grouped = " AND ".join(t for t in tests if t != link)
            compare = ">=" if node.count_op == "at_least" else "="
            if node.count_op == "exactly" and node.count == 0:
                wanted, having, values = False, "", params
            else:
                wanted, having, values = (
                    True,
                    f" HAVING COUNT(*) {compare} %s",
                    [
                        *params,
                        node.count,
                    ],
                )
            sql = (
                f"c.id IN (SELECT {inner}.contact_id FROM {table} {inner}"  # noqa: S608 - fixed names
                f" WHERE {inner}.contact_id IS NOT NULL AND {grouped}"
                f" GROUP BY {inner}.contact_id{having})"
            )
            return (sql if wanted == node.has else f"NOT ({sql})"), values
        if node.count == 0:
            return ("1 = 1" if node.has else "1 = 0"), []
        exists = f"EXISTS (SELECT 1 FROM {table} {inner} WHERE {body})"  # noqa: S608 - fixed names
        return (exists if node.has else f"NOT {exists}"), params
    exists = f"EXISTS (SELECT 1 FROM {table} {inner} WHERE {' AND '.join(tests)})"  # noqa: S608 - fixed names
    return (exists if node.has else f"NOT {exists}"), params


# Python ----------------------------------------------------------------------------------


@dataclass
class ContactData:
    """A contact with what a query can look at, for ``evaluate``."""

    id: int
    values: dict[str, Any]
    account: dict[str, Any] | None
    leads: Sequence[dict[str, Any]]
    opportunities: Sequence[dict[str, Any]]
    interactions: Sequence[dict[str, Any]]  # kind, occurred_at, campaign


def evaluate(
    group: Group,
    contact: ContactData,
    *,
    now: datetime.datetime,
    member_of: Callable[[int, int], bool] = lambda segment, contact: False,
) -> bool:
    """The same answer as ``compile_sql``, in Python."""
    return _group_eval(group, contact.values, contact, now, member_of)


def _group_eval(
    group: Group,
    record: Mapping[str, Any],
    contact: ContactData,
    now: datetime.datetime,
    member_of: Callable[[int, int], bool],
) -> bool:
    results = [_node_eval(child, record, contact, now, member_of) for child in group.children]
    if group.op == "all":
        return all(results)
    if group.op == "any":
        return any(results)
    return not any(results)


def _node_eval(
    node: Node,
    record: Mapping[str, Any],
    contact: ContactData,
    now: datetime.datetime,
    member_of: Callable[[int, int], bool],
) -> bool:
    if isinstance(node, Group):
        return _group_eval(node, record, contact, now, member_of)
    if isinstance(node, Expression):
        return expressions.evaluate(node, record)
    if isinstance(node, SegmentRef):
        return member_of(node.segment_id, contact.id)
    rows: Sequence[Mapping[str, Any]]
    if node.entity == "lead":
        rows = contact.leads
    elif node.entity == "account":
        rows = [contact.account] if contact.account is not None else []
    elif node.entity == "opportunity":
        rows = contact.opportunities
    else:
        rows = [
            i
            for i in contact.interactions
            if i["kind"] == node.kind
            and (
                node.within_days is None
                or i["occurred_at"] >= now - datetime.timedelta(days=node.within_days)
            )
        ]
    matching = sum(1 for row in rows if _group_eval(node.where, row, contact, now, member_of))
    if node.entity == "interaction":
        found = matching >= node.count if node.count_op == "at_least" else matching == node.count
    else:
        found = matching > 0
    return found if node.has else not found
