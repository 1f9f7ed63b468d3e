"""docker-compose.yml: valid against the compose spec, complete, and configured like `make run`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hearth_devstack.services import GATEWAY, SERVICES, service_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = "docker/service.Dockerfile"
REQUIRED_VAR = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]*\}")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def workspace_services() -> set[str]:
    return {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}


def hearth_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compose services built from the service Dockerfile, by their SERVICE build arg."""
    found = {}
    for name, service in compose["services"].items():
        build = service.get("build")
        if isinstance(build, dict) and build.get("dockerfile") == DOCKERFILE:
            assert build["args"]["SERVICE"] == name, name
            assert build["context"] == "."
            found[name] = service
    return found


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    result = validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n  web:\n    image: x\n    restart: sometimes-maybe\n    ports: 8\n"
    )
    result = validate(broken)
    assert result.returncode != 0


def test_every_workspace_service_is_in_compose_and_in_the_devstack_list(
    compose: dict[str, Any],
) -> None:
    in_workspace = workspace_services()
    assert {"identity", "gateway"} <= in_workspace
    assert in_workspace <= set(service_names()), "add it to hearth_devstack.services.SERVICES"
    assert set(hearth_services(compose)) == in_workspace


def test_services_get_the_same_settings_as_make_run(compose: dict[str, Any]) -> None:
    for name, service in hearth_services(compose).items():
        env = service["environment"]
        assert env["HEARTH_ENV"] == "production", name
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
        assert env["KAFKA_IDEMPOTENCE"] == "true", name
        assert "@mongodb:27017" in env["MONGODB_URL"], name
        assert REQUIRED_VAR.search(env["MONGODB_URL"]), name
        assert env["HEARTH_JWKS_URL"] == "http://identity:8000/v1/auth/jwks", name
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://otel-collector:"), name
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy", name
        assert service["depends_on"]["mongodb"]["condition"] == "service_healthy", name


def test_secrets_that_production_requires_must_be_given(compose: dict[str, Any]) -> None:
    services = hearth_services(compose)
    for spec in SERVICES:
        if spec.name not in services:
            continue
        env = services[spec.name]["environment"]
        for name in spec.secret_env:
            assert REQUIRED_VAR.fullmatch(str(env[name])), f"{spec.name}: {name} must be ${{X:?}}"
    admin = services["identity"]["environment"]["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"]
    assert REQUIRED_VAR.fullmatch(admin)


def test_env_example_names_every_required_variable(compose: dict[str, Any]) -> None:
    required = set(REQUIRED_VAR.findall(COMPOSE.read_text(encoding="utf-8")))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    defined = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    assert required
    assert required <= defined


def test_gateway_reaches_every_service_or_marks_it_not_deployed(compose: dict[str, Any]) -> None:
    services = hearth_services(compose)
    gateway = services[GATEWAY]
    env = gateway["environment"]
    for spec in SERVICES:
        if spec.name == GATEWAY:
            continue
        expected = f"http://{spec.name}:8000" if spec.name in services else ""
        assert env[f"GATEWAY_{spec.name.upper()}_URL"] == expected, spec.name
        if spec.name in services:
            assert gateway["depends_on"][spec.name]["condition"] == "service_healthy"
    assert "8000:8000" in gateway["ports"]


def test_service_containers_are_locked_down_and_health_checked(compose: dict[str, Any]) -> None:
    for name, service in hearth_services(compose).items():
        assert service["read_only"] is True, name
        assert service["user"] not in ("root", "0", "0:0"), name
        assert "ALL" in service["cap_drop"], name
        assert "/healthz" in " ".join(service["healthcheck"]["test"]), name


def test_platform_pieces_are_there_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert services["mongodb"]["image"].startswith("mongo:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert "opentelemetry-collector" in services["otel-collector"]["image"]
    for name, service in services.items():
        assert "healthcheck" in service, name


def test_compose_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scraped = {group["labels"]["service"]: group for group in jobs["hearth"]["static_configs"]}
    assert set(scraped) == set(hearth_services(compose))
    for name, group in scraped.items():
        assert group["targets"] == [f"{name}:8000"]


def test_mounted_files_exist(compose: dict[str, Any]) -> None:
    # Dashboards are mounted from the folder that holds them; it may be empty in a checkout.
    optional = {"./deploy/grafana/dashboards"}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith(".") and source not in optional:
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
