"""How a stack configures its processes, checked without starting any."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth_devstack.services import ServiceSpec
from hearth_devstack.stack import BROKER, SHARED_ENV, Stack, StackError

IDENTITY = ServiceSpec("identity", 8001, secrets=("KEY_ENCRYPTION_SECRET",))
GATEWAY = ServiceSpec("gateway", 8000, depends_on=("identity", "chat"))
CHECKINS = ServiceSpec("checkins", 8002, depends_on=("identity",))


def test_each_service_gets_its_port_and_the_shared_settings(tmp_path: Path) -> None:
    stack = Stack(tmp_path, [GATEWAY, IDENTITY], environment="test")
    env = stack.env_for("identity")
    assert env["IDENTITY_HTTP_PORT"] == str(stack.port("identity"))
    assert env["IDENTITY_HTTP_HOST"] == "127.0.0.1"
    assert env["HEARTH_ENV"] == "test"
    assert env["HEARTH_DATA_DIR"] == str(tmp_path.resolve())
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"127.0.0.1:{stack.port(BROKER)}"
    assert env["KAFKA_IDEMPOTENCE"] == "false"
    assert env["HEARTH_JWKS_URL"] == f"{stack.url('identity')}/v1/auth/jwks"
    assert env["IDENTITY_BOOTSTRAP_ADMIN_EMAIL"] == stack.credentials.platform_admin.email
    assert env["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"] == stack.credentials.platform_admin.password
    assert len(env["IDENTITY_KEY_ENCRYPTION_SECRET"]) >= 32
    assert stack.services == ("identity", "gateway")


def test_secrets_stay_the_same_for_a_data_folder(tmp_path: Path) -> None:
    first = Stack(tmp_path, [IDENTITY]).env_for("identity")
    again = Stack(tmp_path, [IDENTITY]).env_for("identity")
    assert first["IDENTITY_KEY_ENCRYPTION_SECRET"] == again["IDENTITY_KEY_ENCRYPTION_SECRET"]
    assert first["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"] == again["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"]


def test_gateway_knows_running_services_and_marks_the_others_not_deployed(
    tmp_path: Path,
) -> None:
    stack = Stack(tmp_path, [GATEWAY, IDENTITY, CHECKINS])
    env = stack.env_for("gateway")
    assert env["GATEWAY_IDENTITY_URL"] == stack.url("identity")
    assert env["GATEWAY_CHECKINS_URL"] == stack.url("checkins")
    assert env["GATEWAY_CHAT_URL"] == ""
    assert env["GATEWAY_ALERTS_URL"] == ""


def test_services_that_ask_identity_directly_are_told_where_it_runs(tmp_path: Path) -> None:
    # Check-ins asks identity about a resident its events have not mentioned yet; on free
    # ports, identity's default port (8001) is somebody else's, or nobody's (503s).
    stack = Stack(tmp_path, [IDENTITY, CHECKINS])
    assert stack.env_for("checkins")["CHECKINS_IDENTITY_URL"] == stack.url("identity")
    assert "IDENTITY_IDENTITY_URL" not in stack.env_for("identity")
    assert "CHECKINS_IDENTITY_URL" not in Stack(tmp_path, [CHECKINS]).env_for("checkins")


def test_inherited_shared_settings_never_leak_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SHARED_ENV:
        monkeypatch.setenv(name, "from-the-shell")
    env = Stack(tmp_path, [IDENTITY]).env_for("identity")
    assert "MONGODB_URL" not in env
    assert all(env.get(name) != "from-the-shell" for name in SHARED_ENV)


def test_real_kafka_and_mongodb_turn_idempotence_on(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path, [IDENTITY], kafka_bootstrap_servers="kafka:9092", mongodb_url="mongodb://db"
    )
    env = stack.env_for("identity")
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["KAFKA_IDEMPOTENCE"] == "true"
    assert env["MONGODB_URL"] == "mongodb://db"
    with pytest.raises(KeyError, match="not running"):
        stack.port(BROKER)


def test_explicit_settings_win(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path,
        [IDENTITY],
        ports={"identity": 18001},
        env={"HEARTH_ENV": "production", "LOG": "a"},
        service_env={"identity": {"LOG": "b"}},
    )
    env = stack.env_for("identity")
    assert env["IDENTITY_HTTP_PORT"] == "18001"
    assert env["HEARTH_ENV"] == "production"
    assert env["LOG"] == "b"


def test_a_listed_service_that_is_not_installed_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ServiceSpec, "is_installed", lambda self: False)
    with pytest.raises(StackError, match="'identity' is not installed"):
        Stack(tmp_path, ["identity"])
    with pytest.raises(KeyError, match="unknown service"):
        Stack(tmp_path, ["nosuchservice"])


def test_unknown_names_and_replicas_are_key_errors(tmp_path: Path) -> None:
    stack = Stack(tmp_path, [IDENTITY])
    with pytest.raises(KeyError):
        stack.log_tail("nope")
    with pytest.raises(KeyError, match="no replica 3"):
        stack.kill(BROKER, replica=3)
