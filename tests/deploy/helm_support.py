"""Rendering charts/hearth and reading what the code says, for the test_helm_*.py modules.

Offline: `helm lint` and `helm template` (the helm-binary dev dependency), and the facts
the chart must agree with are read from the code itself: the list of services
(hearth_devstack.services), their settings classes (env names, service URLs) and the
topics of hearth_contracts. The `helm` and `manifests` fixtures are in conftest.py.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices

from hearth_contracts import EVENT_TYPES, topic_for
from hearth_devstack.services import GATEWAY, ServiceSpec, service_names
from hearth_kit.settings import ServiceSettings

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


# ---- reading rendered manifests --------------------------------------------------------
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


def secret_values(values: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, service in values.get("services", {}).items():
        for env, value in (service.get("secrets") or {}).get("values", {}).items():
            yield name, env, str(value)
