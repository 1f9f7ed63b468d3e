"""charts/hearth: consumers scale (KEDA) on the lag of the consumer group the kit really
joins, over the topics their handlers really read; the gateway scales on CPU.

The consumer group and offset policy come from hearth_kit.messaging.EventConsumer, the
topics from each consuming service's real handler registration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

from helm_support import (
    CI_VALUES,
    CONTRACT_TOPICS,
    RELEASE,
    ROOT,
    named,
    of_kind,
    render,
    render_ok,
    settings_class,
)
from prometheus_client import CollectorRegistry

from hearth_devstack.services import GATEWAY, SERVICES
from hearth_kit.messaging import EventConsumer, inbox_spec


class RecordingBroker:
    """Stands in for the FastStream broker: records the subscriber the consumer declares."""

    def __init__(self) -> None:
        self.subscribers: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def subscriber(self, *topics: str, **options: Any) -> Callable[[Any], Any]:
        self.subscribers.append((topics, options))
        return lambda handler: handler


def _register_checkins(consumer: EventConsumer) -> None:
    from hearth_checkins.entrypoints.events import register_identity_handlers

    register_identity_handlers(consumer, MagicMock())


def _register_alerts(consumer: EventConsumer) -> None:
    from hearth_alerts.entrypoints.events import register

    register(consumer, MagicMock())


def _register_chat(consumer: EventConsumer) -> None:
    from hearth_chat.handlers.identity_events import people_events

    people_events(MagicMock()).register(consumer)


# How each consuming service registers its handlers on its one EventConsumer (what its
# bootstrap does with `await rt.consumer()`). A service that starts consuming needs a line
# here, and a `keda:` block in the chart.
REGISTRARS: dict[str, Callable[[EventConsumer], None]] = {
    "checkins": _register_checkins,
    "alerts": _register_alerts,
    "chat": _register_chat,
}


def consuming_services() -> set[str]:
    """Services whose code opens the kit's event consumer (`await rt.consumer()`)."""
    found = set()
    for spec in SERVICES:
        source = ROOT / "services" / spec.name / "src"
        for path in source.rglob("*.py") if source.exists() else ():
            if re.search(r"\.consumer\(\)", path.read_text(encoding="utf-8")):
                found.add(spec.name)
                break
    return found


def kit_subscription(name: str) -> tuple[set[str], dict[str, Any]]:
    """The topics and subscriber options (group id, offset reset, ...) the kit's
    EventConsumer declares for a service, with the service's real handlers."""
    service_name = settings_class(name).model_fields["service_name"].default
    broker = RecordingBroker()
    consumer = EventConsumer(
        service_name,
        broker,  # type: ignore[arg-type]
        SimpleNamespace(spec=inbox_spec(service_name)),  # type: ignore[arg-type]
        registry=CollectorRegistry(),
    )
    REGISTRARS[name](consumer)
    consumer.subscribe()
    assert len(broker.subscribers) == 1, f"{name}: one subscriber, one group"
    topics, options = broker.subscribers[0]
    return set(topics), options


def test_the_consumers_are_known() -> None:
    consumers = consuming_services()
    assert consumers, "no service opens the kit's event consumer?"
    assert consumers == set(REGISTRARS), "update REGISTRARS (and the chart's keda blocks)"


def test_consumers_scale_on_the_lag_of_their_real_consumer_group(
    manifests: list[dict[str, Any]],
) -> None:
    scaled = of_kind(manifests, "ScaledObject")
    deployments = of_kind(manifests, "Deployment")
    assert set(scaled) == set(REGISTRARS), "a ScaledObject per consuming service, no more"
    bootstrap = named(manifests, "ConfigMap", f"{RELEASE}-shared")["data"][
        "KAFKA_BOOTSTRAP_SERVERS"
    ]
    for name, scaled_object in scaled.items():
        assert scaled_object["apiVersion"] == "keda.sh/v1alpha1"
        spec = scaled_object["spec"]
        assert spec["scaleTargetRef"]["name"] == deployments[name]["metadata"]["name"]
        assert "replicas" not in deployments[name]["spec"], f"{name}: KEDA owns its replicas"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"], name
        topics, options = kit_subscription(name)
        lag = [trigger for trigger in spec["triggers"] if trigger["type"] == "kafka"]
        assert lag, name
        for trigger in lag:
            metadata = trigger["metadata"]
            assert metadata["consumerGroup"] == options["group_id"], name
            assert metadata["bootstrapServers"] == bootstrap, name
            assert metadata["offsetResetPolicy"] == options["auto_offset_reset"], name
            assert int(metadata["lagThreshold"]) > 0, name
        watched = {trigger["metadata"]["topic"] for trigger in lag}
        assert watched <= CONTRACT_TOPICS, f"{name}: {watched - CONTRACT_TOPICS} not in contracts"
        assert watched == topics, (
            f"{name} consumes {sorted(topics)} but the chart watches {sorted(watched)}"
        )


def test_the_gateway_scales_on_cpu(manifests: list[dict[str, Any]]) -> None:
    hpas = of_kind(manifests, "HorizontalPodAutoscaler")
    assert set(hpas) == {GATEWAY}
    hpa = hpas[GATEWAY]
    assert hpa["apiVersion"] == "autoscaling/v2"
    gateway = of_kind(manifests, "Deployment")[GATEWAY]
    assert hpa["spec"]["scaleTargetRef"]["name"] == gateway["metadata"]["name"]
    assert "replicas" not in gateway["spec"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_autoscaling_can_be_switched_off(helm: str) -> None:
    docs = render_ok(helm, CI_VALUES, sets=("keda.enabled=false", "hpa.enabled=false"))
    assert not of_kind(docs, "ScaledObject")
    assert not of_kind(docs, "HorizontalPodAutoscaler")
    for name, deployment in of_kind(docs, "Deployment").items():
        assert deployment["spec"]["replicas"] >= 1, name


def test_scaling_to_zero_is_refused(helm: str) -> None:
    result = render(helm, CI_VALUES, sets=("services.checkins.keda.minReplicas=0",))
    assert result.returncode != 0
    assert "services.checkins.keda.minReplicas must be at least 1" in result.stderr
