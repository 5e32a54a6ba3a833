"""Reading the numbered inputs of the rule and segment builders (``rule-0-cond-1-where-0-op``,
``row-2-where-0-value``): which indices a post holds, an input's text, a whole number."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 1000


def indices(data: Mapping[str, Any], pattern: str, limit: int) -> list[int]:
    """The numbers that ``pattern`` (one group) finds among the posted names, in order; at
    most ``limit`` of them, a bound on what one request can make us build."""
    matcher = re.compile(pattern)
    found = sorted({int(m.group(1)) for key in data if (m := matcher.fullmatch(str(key)))})
    return found[:limit]


def posted(data: Mapping[str, Any], key: str) -> str:
    return str(data.get(key) or "")[:MAX_TEXT]


def whole_number(text: str) -> Any:
    """A whole number when the text is one; otherwise the text (or None when empty), for the
    parser to refuse with its own message."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


@dataclass
class ExpressionInputs:
    """One expression as its three inputs show it: field, operator, value (text)."""

    field: str = ""
    op: str = "eq"
    value: str = ""
