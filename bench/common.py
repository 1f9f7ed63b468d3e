"""Helpers the benchmarks share: percentiles, waiting for a condition, and the latency
table (p50, p99, max, mean, n) they print.

Not a benchmark itself. A bench puts its own folder first on `sys.path` before importing
it, so it is found under `python bench/bench_x.py` and `python -m bench.bench_x` alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def pct(values: Sequence[float], q: float) -> float:
    """The `q`th percentile (0-100) by nearest rank; NaN when there is nothing to rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def wait_until(
    check: Callable[[], bool], within: float, what: str, *, poll: float = 0.01
) -> None:
    """Return once `check()` is true; TimeoutError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(poll)


COLUMNS = ("p50", "p99", "max", "mean")


@dataclass(frozen=True)
class Table:
    """A table of latencies: a name, then p50, p99, max and mean in `unit`, and how many.
    Rows are given seconds; `scale` turns them into `unit`."""

    unit: str
    width: int
    scale: float = 1.0
    digits: int = 3
    n_width: int = 6

    def header(self) -> str:
        figures = "".join(f"{column:>9}" for column in COLUMNS)
        return f"{self.unit:{self.width}}{figures}{'n':>{self.n_width}}"

    def row(self, name: str, seconds: Sequence[float]) -> str:
        values = [s * self.scale for s in seconds]
        if not values:
            return f"{name:{self.width}}{'(none)':>9}"
        figures = (pct(values, 50), pct(values, 99), max(values), statistics.fmean(values))
        shown = "".join(f"{figure:>9.{self.digits}f}" for figure in figures)
        return f"{name:{self.width}}{shown}{len(values):>{self.n_width}}"
