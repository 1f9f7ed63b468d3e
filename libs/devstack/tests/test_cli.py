from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hearth_devstack.broker import free_port
from hearth_devstack.cli import (
    ConfigError,
    _flag,
    choose_ports,
    redact,
    render_summary,
    select_services,
)
from hearth_devstack.seed import DemoCredentials, SeedResult
from hearth_devstack.seed_care import CareSeed, ScheduledResident
from hearth_devstack.services import ServiceSpec
from hearth_devstack.stack import BROKER, PROMETHEUS, Stack

NAMES = ["identity", "gateway"]
SPECS = [ServiceSpec("identity", 8001), ServiceSpec("gateway", 8000, depends_on=("identity",))]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def all_free_env() -> dict[str, str]:
    return {
        "GATEWAY_HTTP_PORT": str(free_port()),
        "IDENTITY_HTTP_PORT": str(free_port()),
        "CHECKINS_HTTP_PORT": str(free_port()),
        "ALERTS_HTTP_PORT": str(free_port()),
        "CHAT_HTTP_PORT": str(free_port()),
        "HEARTH_BROKER_PORT": str(free_port()),
    }


def test_ports_come_from_the_service_settings() -> None:
    env = all_free_env()
    ports = choose_ports(env, NAMES, embedded_broker=True)
    assert ports["identity"] == int(env["IDENTITY_HTTP_PORT"])
    assert ports[BROKER] == int(env["HEARTH_BROKER_PORT"])
    assert PROMETHEUS in ports
    assert BROKER not in choose_ports(env, NAMES, embedded_broker=False)


def test_a_busy_port_names_the_setting_to_change(busy_port: int) -> None:
    env = {**all_free_env(), "IDENTITY_HTTP_PORT": str(busy_port)}
    with pytest.raises(ConfigError, match="IDENTITY_HTTP_PORT"):
        choose_ports(env, NAMES, embedded_broker=True)


def test_a_busy_prometheus_port_falls_back_to_a_free_one(busy_port: int) -> None:
    env = {**all_free_env(), "HEARTH_PROMETHEUS_PORT": str(busy_port)}
    assert choose_ports(env, NAMES, embedded_broker=True)[PROMETHEUS] != busy_port


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_port_setting_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="GATEWAY_HTTP_PORT"):
        choose_ports({**all_free_env(), "GATEWAY_HTTP_PORT": value}, NAMES, embedded_broker=True)


def test_flags() -> None:
    assert _flag({"X": "true"}, "X") is True
    assert _flag({"X": "0"}, "X") is False
    assert _flag({}, "X") is None
    with pytest.raises(ConfigError, match="X='maybe'"):
        _flag({"X": "maybe"}, "X")


def test_redact_hides_passwords_only() -> None:
    assert redact("mongodb://hearth:s3cret@db:27017/x") == "mongodb://hearth:***@db:27017/x"
    assert redact("mongodb://db:27017") == "mongodb://db:27017"


def test_summary_says_where_everything_is(tmp_path: Path) -> None:
    stack = Stack(tmp_path, SPECS, ports={"gateway": 18000, "identity": 18001, BROKER: 19092})
    creds = DemoCredentials.load_or_create(tmp_path)
    text = render_summary(stack, SeedResult(creds, tenant_created=True, users_created=()))
    assert "Gateway     http://127.0.0.1:18000" in text
    assert "http://127.0.0.1:18000/docs" in text
    assert "embedded Tansu (Kafka protocol) at 127.0.0.1:19092" in text
    assert "memory only" in text
    assert "KAFKA_BOOTSTRAP_SERVERS=" in text
    assert f"SQLite, one file per service in {tmp_path}" in text
    assert "MONGODB_URL=" in text
    assert "tenant slug: demo-council" in text
    for user in creds.users.values():
        assert f"{user.email}" in text
        assert user.password in text
    assert creds.platform_admin.password in text


def test_summary_with_kafka_mongodb_and_a_failed_seed(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path,
        SPECS,
        kafka_bootstrap_servers="kafka:9092",
        mongodb_url="mongodb://u:pw@db:27017",
    )
    text = render_summary(stack, None, "gateway said 500")
    assert "Kafka at kafka:9092" in text
    assert "MongoDB at mongodb://u:***@db:27017" in text
    assert "pw@" not in text
    assert "could not be created: gateway said 500" in text


def test_only_selects_installed_services_by_name() -> None:
    assert select_services("identity, gateway") == ["identity", "gateway"]
    assert set(select_services(None)) >= {"identity", "gateway"}
    with pytest.raises(ConfigError, match="not installed services: nosuch"):
        select_services("identity,nosuch")


def test_summary_tells_what_will_happen_and_how_to_act_as_on_call(tmp_path: Path) -> None:
    stack = Stack(tmp_path, SPECS, ports={"gateway": 18000, "identity": 18001, BROKER: 19092})
    creds = DemoCredentials.load_or_create(tmp_path)
    users = {role: replace(u, user_id=f"id-{role}") for role, u in creds.users.items()}
    creds = replace(creds, users=users)
    seed = SeedResult(creds, tenant_created=True, users_created=())
    residents = [users["resident"], *creds.residents.values()]
    start = datetime.fromisoformat("2026-11-28T10:02:00+00:00")
    care = CareSeed(
        timezone="Europe/London",
        residents=tuple(
            ScheduledResident(r, start + timedelta(minutes=i), start + timedelta(minutes=i + 1))
            for i, r in enumerate(residents)
        ),
        oncall=users["oncall"],
        backup=users["council_admin"],
        created=(),
    )
    text = render_summary(stack, seed, care=care)
    assert "Rose Resident   due 10:02, missed at 10:03" in text
    assert "due 10:04, missed at 10:05" in text
    assert "Omar Oncall (on call) is told at once" in text
    assert "after 2 minutes, it escalates to Dana Admin (backup)" in text
    assert "re-arms" in text
    oncall = users["oncall"]
    assert f'"email":"{oncall.email}","password":"{oncall.password}"' in text
    gateway = "http://127.0.0.1:18000"
    assert f"curl -sN {gateway}/v1/alerts/stream" in text
    assert f"curl -s '{gateway}/v1/alerts?status=open'" in text
    assert f"curl -s -X POST {gateway}/v1/alerts/ALERT_ID/acknowledge" in text
    assert f"curl -s -X POST {gateway}/v1/alerts/ALERT_ID/resolve" in text
    assert f"{gateway}/v1/residents/id-resident/checkins" in text
    assert text.rstrip().endswith("Ctrl-C stops everything.")
    # The shell lines are one command each (continued lines end with a backslash).
    commands = [line.strip() for line in text.splitlines() if "curl" in line]
    assert commands[0].startswith("TOKEN=$(curl") and commands[0].endswith("\\")
    script = "\n".join(
        line for line in text.splitlines() if line.startswith(("  TOKEN", "    -d", "  curl"))
    )
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr


def test_summary_says_when_care_could_not_be_set_up(tmp_path: Path) -> None:
    stack = Stack(tmp_path, SPECS)
    creds = DemoCredentials.load_or_create(tmp_path)
    seed = SeedResult(creds, tenant_created=False, users_created=())
    text = render_summary(stack, seed, care_error="alerts said 503")
    assert "care could not be set up: alerts said 503" in text
