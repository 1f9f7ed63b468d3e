"""The running relay: waking on writes, stopping after the batch in flight, retrying
after failures, and its settings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_kit.messaging import OutboxRelay
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection
from hearth_kit.store.sqlite import SqliteStore

from .relay_support import NO_BROKER, Received, pending, ping, relay_for, save_with_events
from .support import eventually


async def test_running_relay_wakes_on_a_write_instead_of_waiting_for_the_poll(
    store: SqliteStore,
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, received = test_broker
    relay = relay_for(things, broker, registry, store=store, poll_seconds=60)
    await relay.start()
    try:
        await asyncio.sleep(0.05)  # the first round found nothing; next poll is in a minute
        await save_with_events(things, "t1", ping("res-1"))
        await eventually(lambda: len(received) == 1, timeout=10, what="relay woken by write")
    finally:
        await relay.stop()
    assert not relay.running


class SlowBroker:
    def __init__(self, inner: KafkaBroker) -> None:
        self.inner = inner
        self.started = asyncio.Event()

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        self.started.set()
        await asyncio.sleep(0.2)
        return await self.inner.publish(*args, **kwargs)


async def test_stop_finishes_the_batch_in_flight(
    store: SqliteStore,
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, received = test_broker
    slow = SlowBroker(broker)
    for i in range(3):
        await save_with_events(things, f"t{i}", ping(f"res-{i}"))
    relay = relay_for(things, slow, registry, store=store)
    await relay.start()
    await slow.started.wait()

    await relay.stop()

    assert sorted(r.envelope.subject for r in received) == ["res-0", "res-1", "res-2"]
    for i in range(3):
        assert await pending(things, f"t{i}") == []


async def test_relay_retries_after_failures_until_published(
    store: SqliteStore,
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, received = test_broker

    class Flaky:
        calls = 0

        async def publish(self, *args: Any, **kwargs: Any) -> Any:
            Flaky.calls += 1
            if Flaky.calls <= 2:
                raise ConnectionError("not yet")
            return await broker.publish(*args, **kwargs)

    await save_with_events(things, "t1", ping("res-1"))
    relay = relay_for(
        things,
        Flaky(),
        registry,
        store=store,
        lease_seconds=0.05,
        poll_seconds=0.01,
        max_backoff_seconds=0.05,
    )
    await relay.start()
    try:
        await eventually(lambda: len(received) == 1, timeout=10, what="publish after retries")
    finally:
        await relay.stop()
    assert Flaky.calls == 3
    assert await pending(things, "t1") == []


async def test_relay_settings_are_validated(things: Collection) -> None:
    with pytest.raises(ValueError, match="at least one collection"):
        OutboxRelay([], NO_BROKER, owner="x", registry=CollectorRegistry())
    with pytest.raises(ValueError, match="lease_seconds"):
        OutboxRelay([things], NO_BROKER, owner="x", registry=CollectorRegistry(), lease_seconds=0)


async def test_relay_from_settings_uses_lease_and_poll(
    things: Collection, registry: CollectorRegistry
) -> None:
    settings = ServiceSettings(
        service_name="checkins", outbox_lease_seconds=3, outbox_poll_seconds=0.5
    )
    relay = OutboxRelay.from_settings(settings, [things], NO_BROKER, registry=registry)
    other = OutboxRelay.from_settings(settings, [things], NO_BROKER, registry=registry)
    assert relay.owner.startswith("checkins@")
    assert relay.owner != other.owner
    assert (relay._lease, relay._poll) == (3, 0.5)
