"""The shared test stack: real processes, the demo seed, crashes and replicas."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from hearth_devstack.seed import DEMO_ROLES, SeedResult, login, seed_demo
from hearth_devstack.stack import Stack


def token_for(stack: Stack, demo: SeedResult, role: str, base_url: str | None = None) -> str:
    with httpx.Client(base_url=base_url or stack.gateway_url, timeout=10) as client:
        return login(client, demo.logins[role])


def wait_for_event(stack: Stack, name: str, kind: str, since: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.name == name and e.kind == kind for e in stack.events[since:]):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {kind} event for {name}; events: {stack.events[since:]}")


def test_every_service_is_ready_and_serves_metrics(stack: Stack) -> None:
    for name in stack.services:
        assert httpx.get(f"{stack.url(name)}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{stack.url(name)}/readyz", timeout=5).status_code == 200
        metrics = httpx.get(f"{stack.url(name)}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "# TYPE" in metrics.text


def test_gateway_serves_api_docs_and_merged_openapi(stack: Stack) -> None:
    docs = httpx.get(f"{stack.gateway_url}/docs", timeout=5)
    assert docs.status_code == 200
    assert "html" in docs.headers["content-type"]
    spec = httpx.get(f"{stack.gateway_url}/openapi.json", timeout=10).json()
    assert "/v1/auth/token" in spec["paths"]


def test_services_get_the_shared_settings(stack: Stack) -> None:
    gateway = stack.env_for("gateway")
    assert gateway["GATEWAY_IDENTITY_URL"] == stack.url("identity")
    assert gateway["GATEWAY_HTTP_PORT"] == str(stack.port("gateway"))
    assert gateway["KAFKA_BOOTSTRAP_SERVERS"] == stack.bootstrap_servers
    assert gateway["KAFKA_IDEMPOTENCE"] == "false"
    assert gateway["HEARTH_JWKS_URL"] == f"{stack.url('identity')}/v1/auth/jwks"
    assert gateway["HEARTH_DATA_DIR"] == str(stack.data_dir)
    assert "MONGODB_URL" not in gateway
    jwks = httpx.get(gateway["HEARTH_JWKS_URL"], timeout=5).json()
    assert jwks["keys"]


def test_demo_council_logins_work_for_every_role(stack: Stack, demo: SeedResult) -> None:
    assert demo.credentials.tenant_slug == "demo-council"
    for role, _ in DEMO_ROLES:
        assert token_for(stack, demo, role)
        assert demo.logins[role].user_id


def test_seeding_again_reuses_the_demo_council(stack: Stack, demo: SeedResult) -> None:
    again = seed_demo(stack.gateway_url, stack.credentials)
    assert not again.tenant_created
    assert again.users_created == ()
    assert {r: u.user_id for r, u in again.logins.items()} == {
        r: u.user_id for r, u in demo.logins.items()
    }


def test_a_killed_service_is_reported_restarted_and_keeps_its_data(
    stack: Stack, demo: SeedResult
) -> None:
    since = len(stack.events)
    old_pid = stack.pid("identity")
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)  # behind the supervisor's back: a crash
    wait_for_event(stack, "identity", "crashed", since)
    wait_for_event(stack, "identity", "restarted", since)
    stack.wait_ready("identity")
    assert stack.pid("identity") != old_pid
    crash = next(e for e in stack.events[since:] if e.kind == "crashed")
    assert "identity" in crash.message
    assert crash.log_tail  # the tail of its log comes with the report
    assert token_for(stack, demo, "resident")  # users survived in the SQLite store


def test_kill_leaves_a_process_down_until_restarted(stack: Stack, demo: SeedResult) -> None:
    code = stack.kill("identity", signal.SIGKILL)
    assert code == -signal.SIGKILL
    time.sleep(1.5)  # longer than the first restart backoff
    assert not stack.is_running("identity")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack.url('identity')}/healthz", timeout=2)
    stack.restart("identity")
    assert stack.is_running("identity")
    assert token_for(stack, demo, "oncall")


def test_a_second_replica_shares_the_store(stack: Stack, demo: SeedResult) -> None:
    replica = stack.start_replica("identity")
    try:
        assert replica in stack.replicas("identity")
        assert stack.port("identity", replica) != stack.port("identity")
        assert stack.log_path("identity", replica).exists()
        token = token_for(stack, demo, "professional", base_url=stack.url("identity", replica))
        assert token
    finally:
        stack.stop_replica("identity", replica)
    assert not stack.is_running("identity", replica)
    assert replica not in stack.replicas("identity")
