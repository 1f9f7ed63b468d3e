"""The Kafka broker every Hearth service uses: FastStream over aiokafka, with metrics,
trace propagation in headers, durable publishing, and quiet per-message logs."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from hearth_kit.settings import ServiceSettings

KAFKA_LOGGER = "hearth.kafka"


def make_broker(
    settings: ServiceSettings,
    *,
    registry: CollectorRegistry,
    tracer_provider: TracerProvider | None = None,
    **options: Any,
) -> KafkaBroker:
    """A broker for one service. Nothing connects until the broker (or its app) starts.

    Every publish waits for all in-sync replicas (`acks="all"`); idempotent producers follow
    `settings.kafka_idempotence` (on against Apache Kafka, off against the embedded broker,
    which refuses them). FastStream's per-message "received/processed" lines go to the
    `hearth.kafka` logger at DEBUG; failures are still logged at ERROR. `options` are
    passed to `KafkaBroker` as-is (tests use them for timeouts).
    """
    kwargs: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "client_id": settings.service_name,
        "middlewares": (
            KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name),
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
        ),
        "logger": logging.getLogger(KAFKA_LOGGER),
        "log_level": logging.DEBUG,
        "description": f"Hearth {settings.service_name} events",
    }
    kwargs.update(options)
    return KafkaBroker(settings.kafka_bootstrap_servers, **kwargs)


def subscriber_options(settings: ServiceSettings) -> dict[str, Any]:
    """Options for any group subscriber a service declares directly on the broker:
    a short fetch wait (the default 500 ms adds ~250 ms per hop) and reading a new
    group's topics from the start, so events published before the first start are seen."""
    return {
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "auto_offset_reset": "earliest",
    }
