"""charts/hearth: lints, renders, and deploys every Hearth service the way its code expects.

Offline: `helm lint` and `helm template` (the helm-binary dev dependency), and the facts
the chart must agree with are read from the code itself: the list of services
(hearth_devstack.services), their settings classes (env names, service URLs), the kit's
consumer group and offset policy (hearth_kit.messaging.EventConsumer), each consumer's
topics (its real handler registration) and the topics of hearth_contracts.
"""

from __future__ import annotations

import base64
import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

import pytest
import yaml
from prometheus_client import CollectorRegistry
from pydantic import AliasChoices

from hearth_contracts import EVENT_TYPES, topic_for
from hearth_devstack.services import GATEWAY, SERVICES, ServiceSpec, service_names
from hearth_kit.messaging import EventConsumer, inbox_spec
from hearth_kit.runner import GRACEFUL_SHUTDOWN_SECONDS
from hearth_kit.settings import INSECURE_SECRET_PREFIX, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "hearth"
CI_VALUES = CHART / "ci" / "test-values.yaml"
RELEASE = "hearth"
NAMESPACE = "hearth"
COMPONENT = "app.kubernetes.io/component"
CONTRACT_TOPICS = {topic_for(event_type) for event_type in EVENT_TYPES}


# ---- helm ------------------------------------------------------------------------------
def helm_binary() -> str | None:
    """The helm next to this interpreter (the helm-binary dev dependency), else on PATH."""
    beside = Path(sys.executable).parent / "helm"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("helm")


@pytest.fixture(scope="module")
def helm() -> str:
    found = helm_binary()
    if found is None:
        pytest.skip(
            "helm not found beside the interpreter or on PATH; the `helm-binary` dev "
            "dependency provides it (`uv sync`)"
        )
    return found


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, *args], capture_output=True, text=True, check=False, timeout=120, cwd=ROOT
    )


def render(
    helm: str, *values: Path, sets: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for path in values:
        args += ["--values", str(path)]
    for assignment in sets:
        args += ["--set", assignment]
    return run_helm(helm, *args)


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_ok(helm: str, *values: Path, sets: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    result = render(helm, *values, sets=sets)
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


def ci_values() -> dict[str, Any]:
    loaded = yaml.safe_load(CI_VALUES.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def chart_values() -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def write_values(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def manifests(helm: str) -> list[dict[str, Any]]:
    return render_ok(helm, CI_VALUES)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Resources of one kind by their service (component label)."""
    found: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc["kind"] == kind:
            component = doc["metadata"].get("labels", {}).get(COMPONENT)
            if component is not None:
                assert component not in found, f"two {kind}s for {component}"
                found[component] = doc
    return found


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} named {name}")


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def environment(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, Any]:
    """What the container's environment holds: plain values (from ConfigMaps or env), and
    {"secret": name, "key": key, "optional": bool} for values from Secrets."""
    container = container_of(deployment)
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, "secrets are passed one by one, never whole"
        config = named(docs, "ConfigMap", source["configMapRef"]["name"])
        env.update(config.get("data", {}))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = {
                "secret": ref["name"],
                "key": ref["key"],
                "optional": ref.get("optional", False),
            }
    return env


def service_url(docs: list[dict[str, Any]], name: str) -> str:
    service = of_kind(docs, "Service")[name]
    return f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"


# ---- what the code says ----------------------------------------------------------------
def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"hearth_{name}.settings")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"hearth_{name}.settings should define one settings class"
    return found[0]


def env_names(spec: ServiceSpec) -> set[str]:
    """Every environment variable the service's settings read (and PORT, which the image's
    entrypoint turns into <PREFIX>HTTP_PORT)."""
    names = {"PORT"}
    for field_name, field in settings_class(spec.name).model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(c for c in alias.choices if isinstance(c, str) and c.isupper())
        else:
            names.add(f"{spec.env_prefix}{field_name.upper()}")
    return names


def upstream_fields(spec: ServiceSpec) -> dict[str, str]:
    """The services this one calls over HTTP (a `<service>_url` setting) and its env name."""
    fields = settings_class(spec.name).model_fields
    return {
        other: f"{spec.env_prefix}{other.upper()}_URL"
        for other in service_names()
        if f"{other}_url" in fields
    }


def needs_database(spec: ServiceSpec) -> bool:
    # Every service owns its database, except the gateway, which owns nothing durable.
    return spec.name != GATEWAY


def required_secrets(spec: ServiceSpec) -> set[str]:
    return set(spec.secret_env) | ({"MONGODB_URL"} if needs_database(spec) else set())


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


def secret_values(values: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, service in values.get("services", {}).items():
        for env, value in (service.get("secrets") or {}).get("values", {}).items():
            yield name, env, str(value)


# ---- lint and render -------------------------------------------------------------------
def test_chart_lints_strictly_with_the_ci_values(helm: str) -> None:
    result = run_helm(helm, "lint", str(CHART), "--strict", "--values", str(CI_VALUES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_has_a_values_entry_and_nothing_else_does() -> None:
    services = chart_values()["services"]
    missing = set(service_names()) - set(services)
    assert not missing, f"add services.<name> to charts/hearth/values.yaml for {missing}"
    assert set(services) == set(service_names())
    for spec in SERVICES:
        entry = services[spec.name]
        assert entry["enabled"] is True, spec.name
        assert entry["image"]["repository"] == f"hearth/{spec.name}", spec.name
        assert entry["resources"]["requests"] and entry["resources"]["limits"], spec.name


def test_every_service_has_its_resources(manifests: list[dict[str, Any]]) -> None:
    kinds = {
        kind: of_kind(manifests, kind)
        for kind in (
            "Deployment",
            "Service",
            "ServiceAccount",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ServiceMonitor",
            "ConfigMap",
        )
    }
    for spec in SERVICES:
        for kind, found in kinds.items():
            assert spec.name in found, f"no {kind} for {spec.name}"
        deployment = kinds["Deployment"][spec.name]
        pod = deployment["spec"]["template"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert kinds["Service"][spec.name]["spec"]["selector"] == selector
        assert kinds["PodDisruptionBudget"][spec.name]["spec"]["selector"]["matchLabels"] == (
            selector
        )
        pdb = kinds["PodDisruptionBudget"][spec.name]["spec"]
        assert "maxUnavailable" in pdb or "minAvailable" in pdb
        account = kinds["ServiceAccount"][spec.name]
        assert pod["spec"]["serviceAccountName"] == account["metadata"]["name"]
        assert account["automountServiceAccountToken"] is False
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert pod["spec"]["enableServiceLinks"] is False, "service links pollute settings"
        container = container_of(deployment)
        # The image built from docker/service.Dockerfile with --build-arg SERVICE=<name>.
        assert container["image"].endswith(f"hearth/{spec.name}:0.1.0-ci"), container["image"]
        (port,) = kinds["Service"][spec.name]["spec"]["ports"]
        (container_port,) = container["ports"]
        assert port["targetPort"] == container_port["name"] == "http"


def test_containers_are_probed_bounded_and_locked_down(manifests: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = container_of(deployment)
        for probe, path in (
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ):
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}, (name, probe)
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[bound]), (name, bound)
        pod_security = pod["securityContext"]
        security = container["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert security["runAsNonRoot"] is True, name
        assert pod_security["runAsUser"] != 0, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in security["capabilities"], name
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], name
        assert "emptyDir" in volumes[mounts["/data"]], name


def test_pods_outlive_the_services_graceful_shutdown(manifests: list[dict[str, Any]]) -> None:
    assert chart_values()["shutdown"]["gracefulShutdownSeconds"] == GRACEFUL_SHUTDOWN_SECONDS
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        command = container_of(deployment)["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep", name
        pre_stop = int(command[1])
        assert pre_stop > 0, name
        assert pod["terminationGracePeriodSeconds"] > pre_stop + GRACEFUL_SHUTDOWN_SECONDS, name


def test_the_chart_refuses_a_grace_period_shorter_than_the_shutdown(helm: str) -> None:
    result = render(helm, CI_VALUES, sets=("shutdown.terminationGracePeriodSeconds=15",))
    assert result.returncode != 0
    assert "terminationGracePeriodSeconds" in result.stderr


def test_pods_spread_over_nodes(manifests: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = {constraint["topologyKey"] for constraint in spread}
        assert "kubernetes.io/hostname" in keys, name
        selector = deployment["spec"]["selector"]["matchLabels"]
        for constraint in spread:
            assert constraint["labelSelector"]["matchLabels"] == selector, name


# ---- settings --------------------------------------------------------------------------
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


# ---- secrets ---------------------------------------------------------------------------
def test_required_secrets_are_declared_and_come_from_secrets(
    manifests: list[dict[str, Any]],
) -> None:
    values = chart_values()["services"]
    deployments = of_kind(manifests, "Deployment")
    for spec in SERVICES:
        declared = set(values[spec.name]["secrets"]["required"])
        assert required_secrets(spec) <= declared, spec.name
        env = environment(manifests, deployments[spec.name])
        for variable in required_secrets(spec):
            assert isinstance(env.get(variable), dict), f"{spec.name}: {variable} not secret"
            assert env[variable]["optional"] is False, (spec.name, variable)


def test_secret_values_are_in_secrets_and_never_in_config_maps(
    manifests: list[dict[str, Any]],
) -> None:
    given = list(secret_values(ci_values()))
    assert len(given) >= 4
    config = "\n".join(
        f"{key}={value}"
        for doc in manifests
        if doc["kind"] == "ConfigMap"
        for key, value in doc.get("data", {}).items()
    )
    stored = {
        base64.b64decode(value).decode()
        for doc in manifests
        if doc["kind"] == "Secret"
        for value in doc.get("data", {}).values()
    }
    for name, variable, value in given:
        assert value not in config, f"{name}: {variable}'s value is in a ConfigMap"
        assert value in stored, f"{name}: {variable} is not in a Secret"
    for spec in SERVICES:
        for variable in required_secrets(spec):
            assert f"\n{variable}=" not in "\n" + config, f"{variable} is in a ConfigMap"


@pytest.mark.parametrize(
    ("service", "variable"),
    [(spec.name, variable) for spec in SERVICES for variable in sorted(required_secrets(spec))],
)
def test_rendering_without_a_required_secret_fails_naming_it(
    helm: str, tmp_path: Path, service: str, variable: str
) -> None:
    values = ci_values()
    secrets = values["services"][service].setdefault("secrets", {})
    secrets.pop("existingSecret", None)
    secrets.get("refs", {}).pop(variable, None)
    secrets.get("values", {}).pop(variable, None)
    result = render(helm, write_values(tmp_path, values))
    assert result.returncode != 0
    assert f"services.{service}.secrets.values.{variable} is required" in result.stderr
    assert "existingSecret" in result.stderr  # and says how else to give it


def test_rendering_with_no_values_at_all_fails(helm: str) -> None:
    result = render(helm)
    assert result.returncode != 0
    assert "is required" in result.stderr


def test_an_existing_secret_replaces_the_values(helm: str, tmp_path: Path) -> None:
    values = ci_values()
    values["services"]["identity"]["secrets"] = {"existingSecret": "identity-from-vault"}
    docs = render_ok(helm, write_values(tmp_path, values))
    assert "identity" not in of_kind(docs, "Secret")
    env = environment(docs, of_kind(docs, "Deployment")["identity"])
    identity = next(spec for spec in SERVICES if spec.name == "identity")
    for variable in required_secrets(identity):
        expected = {"secret": "identity-from-vault", "key": variable, "optional": False}
        assert env[variable] == expected
    assert env["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"]["optional"] is True


def test_development_default_secrets_are_refused(helm: str) -> None:
    result = render(
        helm,
        CI_VALUES,
        sets=(
            "services.identity.secrets.values.IDENTITY_KEY_ENCRYPTION_SECRET="
            f"{INSECURE_SECRET_PREFIX}identity-key-encryption-secret",
        ),
    )
    assert result.returncode != 0
    assert "IDENTITY_KEY_ENCRYPTION_SECRET is a development default" in result.stderr


def test_a_secret_given_as_plain_env_is_refused(helm: str) -> None:
    result = render(helm, CI_VALUES, sets=("services.alerts.env.ALERTS_SMTP_PASSWORD=hunter2",))
    assert result.returncode != 0
    assert "services.alerts.env.ALERTS_SMTP_PASSWORD looks like a secret" in result.stderr


# ---- scaling ---------------------------------------------------------------------------
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


# ---- network, ingress, monitoring ------------------------------------------------------
def admits(policy: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    """Whether a rule of the policy admits pods with these labels in the same namespace."""
    for rule in policy["spec"].get("ingress", []):
        for peer in rule.get("from", []):
            selector = peer.get("podSelector")
            if "namespaceSelector" in peer or "ipBlock" in peer or selector is None:
                continue
            if selector.get("matchLabels", {}).items() <= pod_labels.items():
                return True
    return False


def test_network_policies_deny_by_default_and_allow_what_hearth_needs(
    manifests: list[dict[str, Any]],
) -> None:
    policies = of_kind(manifests, "NetworkPolicy")
    deployments = of_kind(manifests, "Deployment")
    labels = {
        name: deployment["spec"]["template"]["metadata"]["labels"]
        for name, deployment in deployments.items()
    }
    deny = named(manifests, "NetworkPolicy", f"{RELEASE}-default-deny-ingress")["spec"]
    assert deny["policyTypes"] == ["Ingress"] and not deny.get("ingress")
    for pod in labels.values():
        assert deny["podSelector"]["matchLabels"].items() <= pod.items()
    for spec in SERVICES:
        policy = policies[spec.name]
        selector = deployments[spec.name]["spec"]["selector"]["matchLabels"]
        assert policy["spec"]["podSelector"]["matchLabels"] == selector
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"]["ingress"]:
            assert rule["ports"] == [{"port": "http", "protocol": "TCP"}], spec.name
        # Prometheus, from its namespace.
        assert any(
            "namespaceSelector" in peer
            for rule in policy["spec"]["ingress"]
            for peer in rule["from"]
        ), spec.name
        if spec.name == GATEWAY:
            # Only the ingress controller (another namespace) and Prometheus reach it.
            assert not any(admits(policy, labels[other]) for other in labels), spec.name
        else:
            assert admits(policy, labels[GATEWAY]), spec.name
        for caller in SERVICES:
            if spec.name in upstream_fields(caller):
                assert admits(policy, labels[caller.name]), f"{caller.name} -> {spec.name}"
    # identity's JWKS is fetched by every Hearth pod.
    assert all(admits(policies["identity"], pod) for pod in labels.values())


def test_the_ingress_leads_to_the_gateway(manifests: list[dict[str, Any]]) -> None:
    (ingress,) = [doc for doc in manifests if doc["kind"] == "Ingress"]
    gateway = of_kind(manifests, "Service")[GATEWAY]["metadata"]["name"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"] == {"name": gateway, "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"]


def test_service_monitors_scrape_metrics_with_the_usual_labels(
    manifests: list[dict[str, Any]],
) -> None:
    monitors = of_kind(manifests, "ServiceMonitor")
    services = of_kind(manifests, "Service")
    for spec in SERVICES:
        monitor = monitors[spec.name]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= services[spec.name]["metadata"]["labels"].items()
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
        assert relabel["job"]["replacement"] == "hearth"  # as in deploy/prometheus
        assert relabel["service"]["replacement"] == spec.name
        assert relabel["replica"]["sourceLabels"] == ["__meta_kubernetes_pod_name"]


def test_optional_pieces_can_be_switched_off(helm: str) -> None:
    docs = render_ok(
        helm,
        CI_VALUES,
        sets=(
            "ingress.enabled=false",
            "serviceMonitor.enabled=false",
            "networkPolicy.enabled=false",
            "podDisruptionBudget.enabled=false",
        ),
    )
    kinds = {doc["kind"] for doc in docs}
    assert not kinds & {"Ingress", "ServiceMonitor", "NetworkPolicy", "PodDisruptionBudget"}
    assert set(of_kind(docs, "Deployment")) == set(service_names())
