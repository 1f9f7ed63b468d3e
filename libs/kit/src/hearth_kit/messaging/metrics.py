"""Prometheus metrics of the event path: one set per registry, shared by every relay and
consumer registered on it. Labels are topics and outcomes, never people."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class RelayMetrics:
    published: Counter
    publish_errors: Counter
    lag: Gauge


@dataclass(frozen=True)
class ConsumerMetrics:
    consumed: Counter
    handler_seconds: Histogram
    dead_lettered: Counter
    retries: Counter
    lag: Gauge


_lock = threading.Lock()
_relay: weakref.WeakKeyDictionary[CollectorRegistry, RelayMetrics] = weakref.WeakKeyDictionary()
_consumer: weakref.WeakKeyDictionary[CollectorRegistry, ConsumerMetrics] = (
    weakref.WeakKeyDictionary()
)


def relay_metrics(registry: CollectorRegistry) -> RelayMetrics:
    with _lock:
        metrics = _relay.get(registry)
        if metrics is None:
            metrics = RelayMetrics(
                published=Counter(
                    "hearth_outbox_published_events",
                    "Events the outbox relay published and acknowledged, by topic",
                    ["topic"],
                    registry=registry,
                ),
                publish_errors=Counter(
                    "hearth_outbox_publish_errors",
                    "Outbox events that failed to publish (retried after the lease), by topic",
                    ["topic"],
                    registry=registry,
                ),
                lag=Gauge(
                    "hearth_outbox_relay_lag_seconds",
                    "Age of the oldest event in the relay's last claimed batch (0 when idle)",
                    registry=registry,
                ),
            )
            _relay[registry] = metrics
        return metrics


def consumer_metrics(registry: CollectorRegistry) -> ConsumerMetrics:
    with _lock:
        metrics = _consumer.get(registry)
        if metrics is None:
            metrics = ConsumerMetrics(
                consumed=Counter(
                    "hearth_events_consumed",
                    "Events consumed, by topic and outcome "
                    "(handled, duplicate, dead_lettered, rejected)",
                    ["topic", "outcome"],
                    registry=registry,
                ),
                handler_seconds=Histogram(
                    "hearth_event_handler_duration_seconds",
                    "Duration of one handler attempt, by topic",
                    ["topic"],
                    buckets=_HANDLER_BUCKETS,
                    registry=registry,
                ),
                dead_lettered=Counter(
                    "hearth_events_dead_lettered",
                    "Messages sent to a dead-letter topic, by original topic and reason",
                    ["topic", "reason"],
                    registry=registry,
                ),
                retries=Counter(
                    "hearth_event_handler_retries",
                    "Handler attempts retried after a failure, by topic",
                    ["topic"],
                    registry=registry,
                ),
                lag=Gauge(
                    "hearth_consumer_lag_messages",
                    "Messages behind the partition's high watermark after the last batch",
                    ["topic", "partition"],
                    registry=registry,
                ),
            )
            _consumer[registry] = metrics
        return metrics


def observe_consumer_lag(
    metrics: ConsumerMetrics, kafka_consumer: Any, batch: Sequence[ConsumerRecord[Any, Any]]
) -> None:
    """Set the lag gauge of each partition in `batch`: records behind its high watermark."""
    highwater = getattr(kafka_consumer, "highwater", None)
    if highwater is None:
        return
    last: dict[tuple[str, int], int] = {}
    for record in batch:
        last[(record.topic, record.partition)] = record.offset
    for (topic, partition), offset in last.items():
        with contextlib.suppress(Exception):
            end = highwater(TopicPartition(topic, partition))
            if end is not None:
                metrics.lag.labels(topic=topic, partition=str(partition)).set(
                    max(0, end - offset - 1)
                )
