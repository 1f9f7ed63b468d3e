"""The relay on the real embedded broker: an outbox event reaches its handler exactly once,
even when a relay dies before acknowledging or two relays share one store."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope
from hearth_kit.messaging import OutboxRelay
from hearth_kit.store.port import Collection

from .integration_support import TENANT, Stack, entry_of, handled_after_sentinel, outbox_of
from .support import Counted, Pinged, eventually, metric

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def test_outbox_event_is_relayed_and_handled_exactly_once(stack: Stack) -> None:
    entry = entry_of(Pinged(resident_id="res-1"), "res-1")
    await stack.things.insert(
        {"id": "agg-1", "tenant_id": TENANT, "state": "checked-in"}, events=[entry]
    )

    await eventually(lambda: entry["event_id"] in stack.handled, what="event handled")
    await handled_after_sentinel(stack, "res-1")

    assert stack.calls[entry["event_id"]] == 1
    assert await outbox_of(stack.things, "agg-1") == []
    inbox = await stack.inbox.get(TENANT, entry["event_id"])
    assert inbox is not None and inbox["outcome"] == "handled"


class CrashBeforeAck:
    """A relay's view of a collection in which the process dies right after publishing."""

    def __init__(self, inner: Collection) -> None:
        self.spec = inner.spec
        self._inner = inner

    async def claim_outbox(self, **kwargs: Any) -> list[dict[str, Any]]:
        return await self._inner.claim_outbox(**kwargs)

    async def ack_outbox(self, *args: Any) -> None:
        raise SystemError("relay process killed before acknowledging")


async def test_relay_killed_between_publish_and_ack_is_absorbed_by_the_inbox(
    stack: Stack,
) -> None:
    entry = entry_of(Pinged(resident_id="res-2"), "res-2")
    await stack.crashy.insert({"id": "agg-2", "tenant_id": TENANT}, events=[entry])
    duplicates_before = metric(
        stack.registry, "hearth_events_consumed_total", topic="kit.test.pinged", outcome="duplicate"
    )

    crashing: Any = CrashBeforeAck(stack.crashy)
    dying = OutboxRelay(
        [crashing],
        stack.broker,
        owner="dying",
        registry=CollectorRegistry(),
        lease_seconds=0.5,
    )
    first = await dying.run_once()
    assert (first.published, first.failed) == (1, 1)
    assert len(await outbox_of(stack.crashy, "agg-2")) == 1  # published, not acknowledged

    survivor = OutboxRelay(
        [stack.crashy],
        stack.broker,
        owner="survivor",
        registry=CollectorRegistry(),
        lease_seconds=0.5,
    )
    assert (await survivor.run_once()).claimed == 0  # the dead relay's lease still holds
    await asyncio.sleep(0.6)
    second = await survivor.run_once()
    assert (second.published, second.failed) == (1, 0)
    assert await outbox_of(stack.crashy, "agg-2") == []

    await handled_after_sentinel(stack, "res-2")
    assert stack.calls[entry["event_id"]] == 1
    assert (
        metric(
            stack.registry,
            "hearth_events_consumed_total",
            topic="kit.test.pinged",
            outcome="duplicate",
        )
        == duplicates_before + 1
    )


async def test_two_relays_on_one_store_never_publish_an_event_twice(stack: Stack) -> None:
    registries = [CollectorRegistry(), CollectorRegistry()]
    relays = [
        OutboxRelay(
            [stack.counted],
            stack.broker,
            owner=f"replica-{i}",
            registry=registries[i],
            store=stack.store,
            batch_size=20,
            poll_seconds=0.05,
        )
        for i in range(2)
    ]
    for relay in relays:
        await relay.start()
    total = 300
    try:
        for i in range(total):
            event = entry_of(Counted(n=i), f"subject-{i % 17}")
            await stack.counted.insert({"id": f"c{i}", "tenant_id": TENANT}, events=[event])
        await eventually(
            lambda: len(stack.counted_seen) >= total,
            timeout=60,
            what="all counted events delivered",
        )
    finally:
        for relay in relays:
            await relay.stop()
    assert (
        await stack.counted.claim_outbox(now=time.time(), owner="probe", lease_seconds=1, limit=10)
        == []
    )

    # Mark the end of every partition: once each marker is read, nothing is still on its way.
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for("kit.test.counted"))
        for partition in partitions:
            await producer.send_and_wait("kit.test.counted", b"end", partition=partition)
    finally:
        await producer.stop()
    await eventually(
        lambda: sum(body == b"end" for _, body in stack.counted_seen) == len(partitions),
        what="end markers",
    )

    events = [
        Envelope.model_validate_json(body) for _, body in stack.counted_seen if body != b"end"
    ]
    assert len(events) == total
    assert sorted(e.data["n"] for e in events) == list(range(total))
    published = [
        metric(r, "hearth_outbox_published_events_total", topic="kit.test.counted")
        for r in registries
    ]
    assert sum(published) == total
