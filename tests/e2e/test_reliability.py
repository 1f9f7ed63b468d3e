"""Nothing is lost, nothing is doubled: crashes between a write and its publish, and two
replicas of a service on one store."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client import CollectorRegistry
from support.councils import PASSWORD, new_council
from support.events import read_topics

from hearth_contracts import Envelope
from hearth_contracts.identity import UserRegistered, UserRoleChanged
from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack
from hearth_kit.messaging import EventConsumer, inbox_spec, make_broker
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.sqlite import SqliteStore


@pytest.fixture
def http(stack: Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        yield client  # type: ignore[misc]


async def _consume_registrations(
    bootstrap: str, data_dir: str, until_subject: str, settle_seconds: float
) -> Counter[str]:
    """A real consumer with an inbox (as every Hearth service has): count handler calls."""
    settings = ServiceSettings(
        service_name=f"probe{os.getpid()}{int(time.time())}", kafka_bootstrap_servers=bootstrap
    )
    store = SqliteStore(f"{data_dir}/probe.sqlite3")
    broker = make_broker(settings, registry=CollectorRegistry())
    inbox = await store.collection(inbox_spec(settings.service_name))
    consumer = EventConsumer(settings.service_name, broker, inbox, registry=CollectorRegistry())
    handled: Counter[str] = Counter()
    seen = asyncio.Event()

    @consumer.handle(UserRegistered)
    async def on_registered(data: UserRegistered, envelope: Envelope) -> None:
        handled[data.user_id] += 1
        if data.user_id == until_subject:
            seen.set()

    consumer.subscribe()
    await broker.start()
    try:
        await asyncio.wait_for(seen.wait(), timeout=60)
        await asyncio.sleep(settle_seconds)
    finally:
        await broker.stop()
        await store.close()
    return handled


def test_kill_9_between_write_and_publish_loses_nothing_and_doubles_nothing(
    http: httpx.Client, demo: SeedResult, stack: Stack, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    council = new_council(http, demo, "crashtest")
    broker_pid = stack.pid("broker")
    assert broker_pid is not None
    # Freeze the broker: identity commits the user and its event, but cannot publish it.
    os.kill(broker_pid, signal.SIGSTOP)
    try:
        created = http.post(
            "/v1/users",
            json={
                "email": f"kept@{council.slug}.example",
                "password": PASSWORD,
                "display_name": "Kept Resident",
                "role": "resident",
            },
            headers=council.admin.auth,
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        time.sleep(0.5)  # the relay has claimed the event and is waiting on the broker
        stack.kill("identity", signal.SIGKILL)
    finally:
        os.kill(broker_pid, signal.SIGCONT)
    stack.restart("identity")

    handled = asyncio.run(
        _consume_registrations(stack.bootstrap_servers, str(tmp_path), user_id, settle_seconds=3.0)
    )
    assert handled[user_id] == 1
    # The user survived the crash too.
    assert http.get(f"/v1/users/{user_id}", headers=council.admin.auth).status_code == 200


def test_two_replicas_on_one_store_lose_no_change_and_publish_each_event_once(
    http: httpx.Client, demo: SeedResult, stack: Stack
) -> None:
    council = new_council(http, demo, "replicas")
    replica = stack.start_replica("identity")
    try:
        urls = [stack.url("identity", 0), stack.url("identity", replica)]
        clients = [httpx.Client(base_url=u, timeout=30) for u in urls]

        def create(i: int) -> str:
            response = clients[i % 2].post(
                "/v1/users",
                json={
                    "email": f"r{i}@{council.slug}.example",
                    "password": PASSWORD,
                    "display_name": f"Resident {i}",
                    "role": "resident",
                },
                headers=council.admin.auth,
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            user_ids = list(pool.map(create, range(30)))
        target = council.add("oncall").id
        roles = ["professional", "carer", "oncall"] * 7

        def change(i: int) -> int:
            response = clients[i % 2].put(
                f"/v1/users/{target}/role", json={"role": roles[i]}, headers=council.admin.auth
            )
            # 409: lost the compare-and-swap; 422: already holds that role (a concurrent
            # change got there first). Neither may change anything.
            assert response.status_code in (200, 409, 422), response.text
            return response.status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(change, range(len(roles))))
        for c in clients:
            c.close()
    finally:
        stack.stop_replica("identity", replica)

    events = asyncio.run(
        read_topics(stack.bootstrap_servers, [UserRegistered.TYPE, UserRoleChanged.TYPE])
    )
    mine = [e for e in events if e["tenant_id"] == council.id]
    ids = Counter(e["event_id"] for e in mine)
    assert [eid for eid, n in ids.items() if n > 1] == []  # no event published twice
    registered = {e["data"]["user_id"] for e in mine if e["type"] == UserRegistered.TYPE}
    assert set(user_ids) <= registered
    # A 200 that set the role it already had changes nothing and publishes nothing.
    changes = [
        e for e in mine if e["type"] == UserRoleChanged.TYPE and e["data"]["user_id"] == target
    ]
    assert 1 <= len(changes) <= statuses.count(200)
    # No change was lost to a concurrent one: the changes chain, each starting where the
    # previous one ended, and the stored role is where the chain ends.
    chain = sorted(changes, key=lambda e: e["occurred_at"])
    assert chain[0]["data"]["old_role"] == "oncall"
    for before, after in itertools.pairwise(chain):
        assert after["data"]["old_role"] == before["data"]["new_role"]
    final = http.get(f"/v1/users/{target}", headers=council.admin.auth).json()["role"]
    assert final == chain[-1]["data"]["new_role"]
