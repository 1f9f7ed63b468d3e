"""charts/hearth: every service's environment is what its settings class reads, points at
Kafka, identity and the services it calls, and follows a service being switched off."""

from __future__ import annotations

from typing import Any

from helm_support import (
    CI_VALUES,
    NAMESPACE,
    container_of,
    env_names,
    environment,
    of_kind,
    render_ok,
    service_url,
    upstream_fields,
)

from hearth_devstack.services import GATEWAY, SERVICES, service_names
from hearth_kit.settings import ServiceSettings


def test_services_run_in_production_against_kafka_and_identity(
    manifests: list[dict[str, Any]],
) -> None:
    jwks_path = "/" + ServiceSettings.model_fields["jwks_url"].default.split("/", 3)[3]
    deployments = of_kind(manifests, "Deployment")
    for spec in SERVICES:
        deployment = deployments[spec.name]
        env = environment(manifests, deployment)
        assert env["HEARTH_ENV"] == "production", spec.name
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"hearth-kafka-bootstrap.{NAMESPACE}.svc:9092"
        assert env["KAFKA_IDEMPOTENCE"] == "true", spec.name
        assert env["HEARTH_JWKS_URL"] == service_url(manifests, "identity") + jwks_path
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://"), spec.name
        assert env["PORT"] == str(container_of(deployment)["ports"][0]["containerPort"])


def test_every_variable_the_chart_sets_is_a_setting_of_the_service(
    manifests: list[dict[str, Any]],
) -> None:
    deployments = of_kind(manifests, "Deployment")
    for spec in SERVICES:
        unknown = set(environment(manifests, deployments[spec.name])) - env_names(spec)
        assert not unknown, f"{spec.name} does not read {sorted(unknown)}"


def test_services_find_the_services_they_call(manifests: list[dict[str, Any]]) -> None:
    deployments = of_kind(manifests, "Deployment")
    for spec in SERVICES:
        env = environment(manifests, deployments[spec.name])
        for other, variable in upstream_fields(spec).items():
            assert env.get(variable) == service_url(manifests, other), (spec.name, variable)
    gateway = upstream_fields(next(s for s in SERVICES if s.name == GATEWAY))
    assert set(gateway) == set(service_names()) - {GATEWAY}


def test_a_disabled_service_is_not_deployed_and_the_gateway_knows(helm: str) -> None:
    docs = render_ok(helm, CI_VALUES, sets=("services.chat.enabled=false",))
    assert "chat" not in of_kind(docs, "Deployment")
    assert "chat" not in of_kind(docs, "ScaledObject")
    env = environment(docs, of_kind(docs, "Deployment")[GATEWAY])
    assert env["GATEWAY_CHAT_URL"] == ""  # the gateway answers 503 for chat's routes
