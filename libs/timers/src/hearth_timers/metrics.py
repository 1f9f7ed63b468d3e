"""Prometheus metrics of durable timers: one set per registry, labelled by timer name.

The timer name is the collection's name (a kind of deadline), never a person or a tenant.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENESS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)


@dataclass(frozen=True)
class TimerMetrics:
    fired: Counter
    lateness: Histogram
    overdue: Gauge
    overdue_oldest_age: Gauge
    lookahead: Gauge


_lock = threading.Lock()
_metrics: weakref.WeakKeyDictionary[CollectorRegistry, TimerMetrics] = weakref.WeakKeyDictionary()


def timer_metrics(registry: CollectorRegistry) -> TimerMetrics:
    """The timer metrics registered on `registry` (created on first use)."""
    with _lock:
        metrics = _metrics.get(registry)
        if metrics is None:
            metrics = TimerMetrics(
                fired=Counter(
                    "hearth_timer_fired",
                    "Deadlines handled by a scheduler, by timer and outcome "
                    "(fired, conflict: someone else saved first, failed: retried after the "
                    "lease)",
                    ["timer", "outcome"],
                    registry=registry,
                ),
                lateness=Histogram(
                    "hearth_timer_lateness_seconds",
                    "Time from a deadline's due time until its firing was saved",
                    ["timer"],
                    buckets=LATENESS_BUCKETS,
                    registry=registry,
                ),
                overdue=Gauge(
                    "hearth_timer_overdue",
                    "Deadlines past due (by more than the auditor's tolerance) and not fired",
                    ["timer"],
                    registry=registry,
                ),
                overdue_oldest_age=Gauge(
                    "hearth_timer_overdue_oldest_age_seconds",
                    "Age of the oldest deadline that is overdue and not fired (0 when none)",
                    ["timer"],
                    registry=registry,
                ),
                lookahead=Gauge(
                    "hearth_timer_lookahead_deadlines",
                    "Upcoming deadlines this process holds in memory to fire on time",
                    ["timer"],
                    registry=registry,
                ),
            )
            _metrics[registry] = metrics
        return metrics
