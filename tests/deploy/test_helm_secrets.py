"""charts/hearth: secrets come from Secrets (never ConfigMaps or plain env), a missing one
fails the render naming it, and development defaults are refused."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from helm_support import (
    CI_VALUES,
    chart_values,
    ci_values,
    environment,
    of_kind,
    render,
    render_ok,
    required_secrets,
    secret_values,
    write_values,
)

from hearth_devstack.services import SERVICES
from hearth_kit.settings import INSECURE_SECRET_PREFIX


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
