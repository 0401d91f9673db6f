"""Timing: values over runs, percentiles, a timer."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """Measured values of one thing over its runs."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def min(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def max(self) -> float:
        return max(self.values) if self.values else float("nan")

    def as_dict(self, digits: int = 4) -> dict[str, Any]:
        return {
            "median": rounded(self.median, digits),
            "min": rounded(self.min, digits),
            "max": rounded(self.max, digits),
            "values": [rounded(v, digits) for v in self.values],
        }


def rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or value != value:  # NaN
        return None
    return round(value, digits)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank), or NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextlib.contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """``with timer() as elapsed: ...; elapsed()`` in seconds (perf_counter)."""
    start = time.perf_counter()
    end: list[float] = []

    def elapsed() -> float:
        return (end[0] if end else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end.append(time.perf_counter())
