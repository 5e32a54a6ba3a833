"""Workloads: what the harness measures, registered by name.

A workload is a class with a ``name`` and these steps, run by :mod:`bench.runner`::

    setup()        untimed: build the input, note high-water marks
    run()          timed: the job done our way (services, selectors, views)
    observe()      untimed: facts about what the run wrote (counts, fingerprints)
    restore()      untimed: undo the run's writes, so the next run starts from the same state
    baselines()    the same job in hand-written SQL, one or more ways; each is timed, observed
                   and restored like ``run``, and the fastest whose checks pass is the baseline
    checks()       the facts compared with what the input says must happen
    teardown()     untimed: drop anything setup made

Register a workload with :func:`register` in a module under ``bench/workloads/`` and import
that module from ``bench/workloads/__init__.py``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from bench.dataset import Dataset
from bench.engines import Engine
from bench.scales import Scale

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Context:
    """What a workload may know about the run it is part of."""

    scale: Scale
    seed: int
    engine: Engine
    dataset: Dataset


@dataclass(frozen=True)
class Outcome:
    """What one timed run reports: how many input rows it handled, and anything worth keeping
    in the results file (step timings, counts the code under test returned)."""

    rows: int
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """One way of doing the workload's job in plain SQL on the current engine."""

    name: str
    run: Callable[[Context], Outcome]


_NOT_RUN = object()


@dataclass(frozen=True)
class Check:
    """One correctness assertion, recorded with its values rather than raised: the expected
    value, what our run produced and, when a baseline ran, what the baseline produced."""

    expected: Any
    ours: Any
    baseline: Any = _NOT_RUN

    @property
    def ok(self) -> bool:
        return self.ours == self.expected and (
            self.baseline is _NOT_RUN or self.baseline == self.expected
        )

    def as_json(self) -> dict[str, Any]:
        data = {"expected": self.expected, "ours": self.ours}
        if self.baseline is not _NOT_RUN:
            data["baseline"] = self.baseline
        data["ok"] = self.ok
        return data


class Workload(ABC):
    """A job measured our way and, optionally, against hand-written SQL. See the module
    docstring for the order in which the runner calls the steps."""

    name: ClassVar[str]
    description: ClassVar[str]
    tables: ClassVar[tuple[str, ...]] = ()
    """Tables a run writes to: the engine settles them (vacuum, statistics) after a restore."""

    def setup(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Prepare the input; not timed."""

    @abstractmethod
    def run(self, ctx: Context) -> Outcome:
        """Do the job our way; timed."""

    def baselines(self, ctx: Context) -> list[Baseline]:
        """Hand-written SQL doing the same job on ``ctx.engine``; empty when there is none."""
        return []

    def observe(self, ctx: Context) -> Facts:
        """Facts about what the last run wrote, for :meth:`checks`; not timed."""
        return {}

    def restore(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Undo the last run's writes; not timed."""

    def checks(self, ctx: Context, ours: Facts, baseline: Facts | None) -> dict[str, Check]:
        """Compare what the runs wrote with what must have happened."""
        return {}

    def teardown(self, ctx: Context) -> None:  # noqa: B027 - optional step
        """Drop whatever :meth:`setup` made; not timed."""


REGISTRY: dict[str, type[Workload]] = {}
W = TypeVar("W", bound=type[Workload])


def register(cls: W) -> W:
    """Class decorator: make a workload runnable by name (``--workload NAME``)."""
    if cls.name in REGISTRY:
        raise ValueError(f"Two workloads are named {cls.name!r}.")
    REGISTRY[cls.name] = cls
    return cls


@contextmanager
def step(steps: dict[str, float], name: str) -> Iterator[None]:
    """Time a block into ``steps[name]``: where a run or a baseline spends its time."""
    started = time.perf_counter()
    try:
        yield
    finally:
        steps[name] = round(time.perf_counter() - started, 4)
