"""The broker factory's settings."""

from __future__ import annotations

import logging

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from hearth_kit.messaging import make_broker, subscriber_options
from hearth_kit.settings import ServiceSettings


def test_broker_is_durable_named_and_instrumented() -> None:
    settings = ServiceSettings(
        service_name="alerts", kafka_bootstrap_servers="kafka-1:9092", kafka_idempotence=True
    )
    broker = make_broker(settings, registry=CollectorRegistry())

    params = broker._connection_kwargs
    assert params["bootstrap_servers"] == ["kafka-1:9092"]
    assert params["acks"] == "all"
    assert params["enable_idempotence"] is True
    assert params["client_id"] == "alerts"
    kinds = {type(m) for m in broker.config.broker_config.broker_middlewares}
    assert {KafkaPrometheusMiddleware, KafkaTelemetryMiddleware} <= kinds


def test_idempotence_follows_the_setting() -> None:
    broker = make_broker(ServiceSettings(kafka_idempotence=False), registry=CollectorRegistry())
    assert broker._connection_kwargs["enable_idempotence"] is False


def test_two_brokers_can_share_a_registry() -> None:
    registry = CollectorRegistry()
    make_broker(ServiceSettings(), registry=registry)
    make_broker(ServiceSettings(), registry=registry)  # no duplicate-metric error


def test_per_message_logs_are_debug_only() -> None:
    broker = make_broker(ServiceSettings(), registry=CollectorRegistry())
    assert broker.config.broker_config.logger.log_level == logging.DEBUG


def test_subscriber_options_use_the_short_fetch_wait() -> None:
    options = subscriber_options(ServiceSettings(kafka_fetch_max_wait_ms=15))
    assert options == {"fetch_max_wait_ms": 15, "auto_offset_reset": "earliest"}
