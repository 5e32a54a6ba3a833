"""Reads for the LinkedIn sync: the log of runs, the responses received, the mappings."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.paginator import Paginator
from django.db.models import QuerySet

from leadcycle.linkedin.models import Connector, FieldMapping, ReceivedResponse, SyncRun

T = TypeVar("T")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def _page(qs: QuerySet[Any], page: Any, page_size: Any) -> Page[Any]:
    size = _int(page_size, 25, 1, MAX_PAGE_SIZE)
    paginator = Paginator(qs, size)
    number = _int(page, 1, 1, max(1, paginator.num_pages))
    return Page(list(paginator.page(number).object_list), paginator.count, number, size)


def sync_runs_page(
    *, connector: Connector | None = None, page: Any = 1, page_size: Any = 25
) -> Page[SyncRun]:
    """The sync log, newest first."""
    qs = SyncRun.objects.select_related("requested_by")
    if connector is not None:
        qs = qs.filter(connector=connector)
    return _page(qs.order_by("-started_at", "-id"), page, page_size)


def received_responses_page(
    *, connector: Connector | None = None, outcome: str = "", page: Any = 1, page_size: Any = 25
) -> Page[ReceivedResponse]:
    """The responses received, newest first, with the contact and lead they went to."""
    qs = ReceivedResponse.objects.select_related("contact", "lead")
    if connector is not None:
        qs = qs.filter(connector=connector)
    if outcome in ReceivedResponse.Outcome.values:
        qs = qs.filter(outcome=outcome)
    return _page(qs.order_by("-received_at", "-id"), page, page_size)


def mappings_of(connector: Connector) -> list[FieldMapping]:
    return list(FieldMapping.objects.filter(connector=connector).order_by("form_urn", "id"))


def connectors_for_webhook() -> list[Connector]:
    """The connectors a webhook call may come for: those with a client secret, oldest first."""
    return list(Connector.objects.exclude(client_secret="").order_by("id"))
