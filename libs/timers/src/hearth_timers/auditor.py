"""The timer auditor: reports deadlines that are overdue and not fired, as metrics.

Every `interval_seconds` it asks each timer collection how many deadlines are due more
than `tolerance_seconds` ago and not claimed by a live lease (`count_due`; a lease counts
as dead once it expired more than the tolerance ago), and how old the oldest is. Both
should stay at zero: anything else means no scheduler is running, or firings keep failing,
and is what an alert on `hearth_timer_overdue > 0` catches. The lateness of deadlines
that did fire is recorded by the schedulers in the same registry
(`hearth_timer_lateness_seconds`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from hearth_kit.periodic import PeriodicTask
from hearth_kit.store.port import Collection
from hearth_timers.clock import Clock, SystemClock
from hearth_timers.metrics import timer_metrics

logger = logging.getLogger("hearth.timers")


@dataclass(frozen=True)
class OverdueReport:
    count: int
    oldest_age_seconds: float


class TimerAuditor:
    def __init__(
        self,
        collections: Sequence[Collection],
        *,
        registry: CollectorRegistry,
        clock: Clock | None = None,
        interval_seconds: float = 10.0,
        tolerance_seconds: float = 5.0,
    ) -> None:
        for collection in collections:
            if collection.spec.due_field is None:
                raise ValueError(f"{collection.spec.name} declares no due field")
        if interval_seconds <= 0 or tolerance_seconds < 0:
            raise ValueError("interval_seconds must be > 0 and tolerance_seconds >= 0")
        self._collections = list(collections)
        self._metrics = timer_metrics(registry)
        self._clock: Clock = clock or SystemClock()
        self._interval = interval_seconds
        self._tolerance = tolerance_seconds
        self._rounds = PeriodicTask(
            "timer-auditor",
            self.audit_once,
            interval_seconds=interval_seconds,
            sleep=self._clock.sleep,
        )

    async def audit_once(self) -> dict[str, OverdueReport]:
        """Measure every collection now and update the gauges; returns what it found."""
        reports: dict[str, OverdueReport] = {}
        for collection in self._collections:
            now = self._clock.now()
            count, oldest = await collection.count_due(now=now - self._tolerance)
            age = max(0.0, now - oldest) if count and oldest is not None else 0.0
            name = collection.spec.name
            self._metrics.overdue.labels(timer=name).set(count)
            self._metrics.overdue_oldest_age.labels(timer=name).set(age)
            reports[name] = OverdueReport(count=count, oldest_age_seconds=age)
            if count:
                logger.warning(
                    "%d %s deadline(s) overdue and not fired; the oldest is %.1fs past due",
                    count,
                    name,
                    age,
                )
        return reports

    async def start(self) -> None:
        await self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
