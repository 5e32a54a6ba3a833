"""Listing records: one search/filter/sort/pagination code path for the UI and the API.

A ``ListSpec`` says, for one record type, which fields text search looks in, which filters
exist (and how their text values are parsed) and which fields may be sorted on. ``list_page``
turns request parameters (a ``QueryDict`` from a page or the API's parsed query) into a page.
Every refused value raises ``ValidationError`` naming the parameter.
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date

M = TypeVar("M", bound=models.Model)

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("Expected true or false.")


def _parse_int(value: str) -> int:
    return int(value)


def _parse_decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("Expected a number.") from exc


def _parse_date(value: str) -> datetime.date:
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError("Expected a date as YYYY-MM-DD.")
    return parsed


def _parse_text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Filter:
    """A named filter: the ORM lookup it applies and how its text value is parsed.

    ``choices`` restricts the accepted values; ``null_word`` (for foreign keys) filters for
    "no value", e.g. ``parent_contact=none`` lists orphan leads.
    """

    lookup: str
    parse: Callable[[str], Any] = _parse_text
    choices: tuple[str, ...] = ()
    label: str = ""
    null_word: str = ""
    condition: Callable[[Any], Q] | None = None  # instead of ``lookup``: a condition on a value


BOOL, INT, DECIMAL, DATE = _parse_bool, _parse_int, _parse_decimal, _parse_date


@dataclass(frozen=True)
class ListSpec(Generic[M]):
    model: type[M]
    search_fields: tuple[str, ...]
    filters: Mapping[str, Filter]
    sort_fields: tuple[str, ...]
    default_sort: str
    select_related: tuple[str, ...] = ()
    annotate: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    count: int
    page: int
    page_size: int
    sort: str
    query: str
    filters: dict[str, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _error(param: str, message: str) -> ValidationError:
    return ValidationError({param: ValidationError(message, code="invalid")})


def _int_param(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _error(name, "Expected a whole number.") from None
    if not low <= value <= high:
        raise _error(name, f"Must be between {low} and {high}.")
    return value


def filtered_queryset(
    spec: ListSpec[M], params: Mapping[str, Any], base: QuerySet[M] | None = None
) -> tuple[QuerySet[M], str, str, dict[str, str]]:
    """The queryset after search, filters and sort, with the values that were applied."""
    qs = base if base is not None else spec.model._default_manager.all()
    if spec.select_related:
        qs = qs.select_related(*spec.select_related)
    if spec.annotate:
        qs = qs.annotate(**spec.annotate)
    query = str(params.get("q") or "").strip()[:200]
    if query:
        condition = Q()
        for term in query.split()[:5]:
            term_q = Q()
            for name in spec.search_fields:
                term_q |= Q(**{f"{name}__icontains": term})
            condition &= term_q
        qs = qs.filter(condition)
    applied: dict[str, str] = {}
    for name, flt in spec.filters.items():
        raw = params.get(name)
        if raw in (None, ""):
            continue
        raw = str(raw)
        if flt.null_word and raw == flt.null_word:
            qs = qs.filter(**{f"{flt.lookup.split('__')[0]}__isnull": True})
            applied[name] = raw
            continue
        if flt.choices and raw not in flt.choices:
            raise _error(name, f"Must be one of: {', '.join(flt.choices)}.")
        try:
            value = flt.parse(raw)
        except (TypeError, ValueError) as exc:
            raise _error(name, str(exc) or "Invalid value.") from None
        qs = qs.filter(flt.condition(value) if flt.condition else Q(**{flt.lookup: value}))
        applied[name] = raw
    sort = str(params.get("sort") or spec.default_sort)
    if sort.removeprefix("-") not in spec.sort_fields:
        raise _error(
            "sort", f"Sort by one of: {', '.join(spec.sort_fields)} (prefix - to reverse)."
        )
    qs = qs.order_by(sort, "-id" if sort.startswith("-") else "id")
    return qs, sort, query, applied


def list_page(
    spec: ListSpec[M], params: Mapping[str, Any], base: QuerySet[M] | None = None
) -> Page[M]:
    """One page of records: ``q`` (search), filters, ``sort``, ``page``, ``page_size``."""
    qs, sort, query, applied = filtered_queryset(spec, params, base)
    page_size = _int_param(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int_param(params, "page", 1, 1, 1_000_000)
    count = qs.count()
    offset = (page - 1) * page_size
    items = list(qs[offset : offset + page_size])
    return Page(
        items=items,
        count=count,
        page=page,
        page_size=page_size,
        sort=sort,
        query=query,
        filters=applied,
    )
