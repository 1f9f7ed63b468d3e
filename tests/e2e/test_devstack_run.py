"""`python -m hearth_devstack run` (what `make run` starts), as a person would use it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from hearth_devstack.broker import free_port
from hearth_devstack.seed import DemoCredentials, login
from hearth_devstack.services import installed_services

pytestmark = pytest.mark.e2e

READY_LINE = "Ctrl-C stops everything."


class Run:
    def __init__(self, process: subprocess.Popen[bytes], output: Path) -> None:
        self.process = process
        self.output = output

    @property
    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, line: str, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if line in self.text:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"run exited with {self.process.returncode}:\n{self.text}")
            time.sleep(0.2)
        raise AssertionError(f"{line!r} not printed in {timeout}s:\n{self.text}")


@contextmanager
def make_run(data_dir: Path, env: dict[str, str]) -> Iterator[Run]:
    output = data_dir.parent / f"{data_dir.name}-run-{time.monotonic_ns()}.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hearth_devstack", "run", "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    run = Run(process, output)
    try:
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def run_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "HEARTH_DATA_DIR", "HEARTH_ENV")
    }
    ports = {
        "GATEWAY_HTTP_PORT": free_port(),
        "IDENTITY_HTTP_PORT": free_port(),
        "HEARTH_BROKER_PORT": free_port(),
        "HEARTH_PROMETHEUS_PORT": free_port(),
    }
    env.update({k: str(v) for k, v in ports.items()})
    for name in ("CHECKINS", "ALERTS", "CHAT"):
        env[f"{name}_HTTP_PORT"] = str(free_port())
    return env


def test_run_prints_where_to_look_stops_cleanly_and_keeps_data(
    tmp_path: Path, run_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    gateway = f"http://127.0.0.1:{run_env['GATEWAY_HTTP_PORT']}"
    with make_run(data_dir, run_env) as first:
        first.wait_for(READY_LINE)
        text = first.text
        assert f"Gateway     {gateway}" in text
        assert f"{gateway}/docs" in text
        assert "embedded Tansu" in text
        assert "restart loses messages" in text
        assert "KAFKA_BOOTSTRAP_SERVERS" in text
        assert "MONGODB_URL" in text
        assert f"SQLite, one file per service in {data_dir}" in text
        assert "/metrics" in text
        assert ("Prometheus http://" in text) or ("apt-get install prometheus" in text)
        creds = DemoCredentials.load_or_create(data_dir)
        for role, user in creds.users.items():
            assert user.email in text, role
            assert user.password in text, role
        assert "tenant slug: demo-council" in text
        with httpx.Client(base_url=gateway, timeout=10) as client:
            admin_token = login(client, creds.users["council_admin"])
            extra = client.post(
                "/v1/users",
                headers={"Authorization": f"Bearer {admin_token}"},
                json={
                    "email": "kept@demo-council.example",
                    "password": "Kept-across-restarts-1",
                    "display_name": "Kept Person",
                    "role": "resident",
                },
            )
            assert extra.status_code == 201, extra.text
        first.process.send_signal(signal.SIGINT)
        assert first.process.wait(timeout=60) == 0
        assert "Stopped." in first.text
    for name in ("GATEWAY_HTTP_PORT", "IDENTITY_HTTP_PORT", "HEARTH_BROKER_PORT"):
        assert not port_open(int(run_env[name])), f"{name} still open after stop"

    with make_run(data_dir, run_env) as second:
        second.wait_for(READY_LINE)
        assert DemoCredentials.load_or_create(data_dir) == creds  # same logins as before
        assert creds.users["resident"].password in second.text
        with httpx.Client(base_url=gateway, timeout=10) as client:
            kept = client.post(
                "/v1/auth/token",
                json={
                    "tenant": "demo-council",
                    "email": "kept@demo-council.example",
                    "password": "Kept-across-restarts-1",
                },
            )
            assert kept.status_code == 200, kept.text
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=60) == 0


def test_run_prometheus_scrapes_every_service(tmp_path: Path, run_env: dict[str, str]) -> None:
    if shutil.which("prometheus", path=run_env.get("PATH")) is None:
        pytest.skip("prometheus is not installed (make test installs it when run as root)")
    prometheus = f"http://127.0.0.1:{run_env['HEARTH_PROMETHEUS_PORT']}"
    expected = {spec.name for spec in installed_services()}
    with make_run(tmp_path / "data", run_env) as run:
        run.wait_for(READY_LINE)
        assert f"Prometheus {prometheus}" in run.text
        deadline = time.monotonic() + 60
        health: dict[str, str] = {}
        while time.monotonic() < deadline:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()
            health = {
                t["labels"]["service"]: t["health"]
                for t in targets["data"]["activeTargets"]
                if t["labels"]["job"] == "hearth"
            }
            if set(health) == expected and set(health.values()) == {"up"}:
                break
            time.sleep(1)
        assert health == dict.fromkeys(expected, "up")
