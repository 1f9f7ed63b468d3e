"""The whole event path on the real embedded broker: SQLite outbox -> relay -> Kafka
protocol -> consumer group -> inbox -> handler, retries and dead letters.

One broker, one service stack and one consumer-group join are shared by the module (a
join costs seconds); each test uses its own aggregates, subjects and event ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, EventData
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.messaging import (
    EventConsumer,
    OutboxRelay,
    inbox_spec,
    make_broker,
    outbox_entry,
    publish_envelope,
)
from hearth_kit.messaging import consumer as consumer_module
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, CollectionSpec, StoreError
from hearth_kit.store.sqlite import SqliteStore

from .support import Counted, Doomed, Flaky, Pinged, eventually, metric

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

TENANT = "council-a"


@dataclass
class DeadLetter:
    topic: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Stack:
    bootstrap: str
    broker: KafkaBroker
    store: SqliteStore
    registry: CollectorRegistry
    things: Collection
    crashy: Collection
    counted: Collection
    inbox: Collection
    flaky_inbox: FlakyInbox
    consumer: EventConsumer
    calls: Counter[str] = field(default_factory=Counter)
    handled: set[str] = field(default_factory=set)
    fails: Counter[str] = field(default_factory=Counter)
    dead: list[DeadLetter] = field(default_factory=list)
    counted_seen: list[tuple[int, bytes]] = field(default_factory=list)

    def dead_letter_of(self, event_id: str) -> DeadLetter | None:
        return next((d for d in self.dead if d.headers.get("x-event-id") == event_id), None)


def entry_of(data: EventData, subject: str) -> dict[str, Any]:
    return outbox_entry(data, tenant_id=TENANT, subject=subject, producer="kit-it")


class FlakyInbox:
    """The consumer's inbox, whose write fails once for chosen events (a database hiccup)."""

    def __init__(self, inner: Collection) -> None:
        self.spec = inner.spec
        self.inner = inner
        self.fail_once: set[str] = set()

    async def get(self, tenant_id: str, doc_id: str) -> Any:
        return await self.inner.get(tenant_id, doc_id)

    async def insert(self, doc: dict[str, Any], **kwargs: Any) -> Any:
        if doc["id"] in self.fail_once:
            self.fail_once.discard(doc["id"])
            raise StoreError("database is locked")
        return await self.inner.insert(doc, **kwargs)

    async def expire(self, *, before: float) -> int:
        return await self.inner.expire(before=before)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, test_event_types: None
) -> AsyncIterator[Stack]:
    async with contextlib.AsyncExitStack() as cleanup:
        patch = cleanup.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(consumer_module, "_INFRA_RETRY_SECONDS", 0.05)
        embedded = cleanup.enter_context(start_embedded_broker())
        store = SqliteStore(tmp_path_factory.mktemp("integration") / "kit-it.sqlite3")
        cleanup.push_async_callback(store.close)
        async for running in _start_stack(embedded.bootstrap_servers, store, cleanup):
            yield running


async def _start_stack(
    bootstrap: str, store: SqliteStore, cleanup: contextlib.AsyncExitStack
) -> AsyncIterator[Stack]:
    registry = CollectorRegistry()
    settings = ServiceSettings(service_name="kit-it", kafka_bootstrap_servers=bootstrap)
    broker = make_broker(settings, registry=registry)
    inbox = FlakyInbox(await store.collection(inbox_spec("kit-it")))
    consumer = EventConsumer(
        "kit-it",
        broker,
        inbox,  # type: ignore[arg-type]
        registry=registry,
        max_attempts=3,
        backoff=(0.01, 0.02),
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
    s = Stack(
        bootstrap=bootstrap,
        broker=broker,
        store=store,
        registry=registry,
        things=await store.collection(CollectionSpec("things")),
        crashy=await store.collection(CollectionSpec("crashy")),
        counted=await store.collection(CollectionSpec("counted")),
        inbox=inbox.inner,
        flaky_inbox=inbox,
        consumer=consumer,
    )

    @consumer.handle(Pinged)
    async def on_pinged(data: Pinged, envelope: Envelope) -> None:
        s.calls[str(envelope.event_id)] += 1
        s.handled.add(str(envelope.event_id))

    @consumer.handle(Flaky)
    async def on_flaky(data: Flaky, envelope: Envelope) -> None:
        event_id = str(envelope.event_id)
        s.calls[event_id] += 1
        if s.fails[event_id] < data.fail_times:
            s.fails[event_id] += 1
            raise ConnectionError("alerting provider timed out")
        s.handled.add(event_id)

    @consumer.handle(Doomed)
    async def on_doomed(data: Doomed, envelope: Envelope) -> None:
        s.calls[str(envelope.event_id)] += 1
        raise ValueError(f"no rota for {data.resident_id}")

    subscriber = consumer.subscribe()

    # Observers without a group: they read every partition and need no group join.
    @broker.subscriber(
        "kit.test.pinged.dlq",
        "kit.test.flaky.dlq",
        "kit.test.doomed.dlq",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    async def observe_dead(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        s.dead.append(DeadLetter(raw.topic, message.body, dict(message.headers)))

    @broker.subscriber("kit.test.counted", auto_offset_reset="earliest", fetch_max_wait_ms=20)
    async def observe_counted(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        s.counted_seen.append((raw.partition, message.body))

    relay = OutboxRelay(
        [s.things],
        broker,
        owner="main-relay",
        registry=registry,
        store=store,
        lease_seconds=5,
        poll_seconds=0.2,
    )
    cleanup.push_async_callback(broker.stop)
    await broker.start()
    cleanup.push_async_callback(consumer.stop)
    await eventually(
        lambda: bool(subscriber.consumer and subscriber.consumer.assignment()),
        timeout=30,
        what="consumer group join",
    )
    cleanup.push_async_callback(relay.stop)
    await relay.start()
    warmup = entry_of(Pinged(resident_id="warmup"), "warmup")
    await s.things.insert({"id": "warmup", "tenant_id": TENANT}, events=[warmup])
    await eventually(lambda: warmup["event_id"] in s.handled, timeout=30, what="warm-up")
    yield s


async def handled_after_sentinel(s: Stack, subject: str) -> None:
    """Publish a marker on the same key and wait for it: every earlier record of that
    partition has then been processed (one partition is consumed in order)."""
    sentinel = Envelope.model_validate(
        entry_of(Pinged(resident_id=subject, note="sentinel"), subject)
    )
    await publish_envelope(s.broker, sentinel, topic="kit.test.pinged")
    await eventually(lambda: str(sentinel.event_id) in s.handled, what="sentinel")


async def outbox_of(collection: Collection, doc_id: str) -> list[Any]:
    doc = await collection.get(TENANT, doc_id)
    assert doc is not None
    return list(doc["outbox"])


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


async def test_handler_failing_twice_then_succeeding_is_handled_once(stack: Stack) -> None:
    envelope = Envelope.model_validate(entry_of(Flaky(resident_id="res-3", fail_times=2), "res-3"))
    await publish_envelope(stack.broker, envelope, topic="kit.test.flaky")

    event_id = str(envelope.event_id)
    await eventually(lambda: event_id in stack.handled, what="flaky event handled")
    assert stack.calls[event_id] == 3
    inbox = await stack.inbox.get(TENANT, event_id)
    assert inbox is not None and inbox["outcome"] == "handled"
    assert stack.dead_letter_of(event_id) is None


async def test_always_failing_handler_sends_the_original_to_the_dead_letter_topic(
    stack: Stack,
) -> None:
    entry = entry_of(Doomed(resident_id="res-4"), "res-4")
    await stack.things.insert({"id": "agg-4", "tenant_id": TENANT}, events=[entry])

    await eventually(
        lambda: stack.dead_letter_of(entry["event_id"]) is not None, what="dead letter"
    )
    dead = stack.dead_letter_of(entry["event_id"])
    assert dead is not None
    assert dead.topic == "kit.test.doomed.dlq"
    assert dead.body == Envelope.model_validate(entry).model_dump_json().encode()
    assert dead.headers["x-error"] == "no rota for res-4"
    assert dead.headers["x-error-type"] == "builtins.ValueError"
    assert dead.headers["x-attempts"] == "3"
    assert dead.headers["x-original-topic"] == "kit.test.doomed"
    assert dead.headers["x-original-partition"].isdigit()
    assert dead.headers["x-original-offset"].isdigit()
    assert dead.headers["x-tenant-id"] == TENANT
    assert stack.calls[entry["event_id"]] == 3
    await eventually(
        lambda: (
            metric(
                stack.registry,
                "hearth_events_consumed_total",
                topic="kit.test.doomed",
                outcome="dead_lettered",
            )
            >= 1
        ),
        what="dead-letter outcome recorded",
    )
    inbox = await stack.inbox.get(TENANT, entry["event_id"])
    assert inbox is not None and inbox["outcome"] == "dead_lettered"


async def test_poison_messages_go_to_the_dead_letter_topic_and_do_not_block(
    stack: Stack,
) -> None:
    key = f"{TENANT}:res-5".encode()
    bad_json = b"\x00{this is not an envelope"
    bad_headers = b'{"still": "not an envelope"}'
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("kit.test.pinged", bad_json, key=key)
        await producer.send_and_wait(
            "kit.test.pinged", bad_headers, key=key, headers=[("x-junk", b"\xff\xfe")]
        )
    finally:
        await producer.stop()

    await handled_after_sentinel(stack, "res-5")  # same partition, behind the poison
    bodies = (bad_json, bad_headers)
    await eventually(
        lambda: sum(d.body in bodies for d in stack.dead) == 2, what="both dead letters"
    )
    for body in bodies:
        [dead] = [d for d in stack.dead if d.body == body]
        assert dead.topic == "kit.test.pinged.dlq"
        assert dead.headers["x-dead-letter-reason"] == "invalid_envelope"
        assert dead.headers["x-attempts"] == "0"
        assert dead.headers["x-original-topic"] == "kit.test.pinged"
    [junk] = [d for d in stack.dead if d.body == bad_headers]
    assert junk.headers["x-junk"] == "\ufffd\ufffd"


async def test_duplicate_message_is_handled_once(stack: Stack) -> None:
    envelope = Envelope.model_validate(entry_of(Pinged(resident_id="res-6"), "res-6"))
    for _ in range(3):
        await publish_envelope(stack.broker, envelope, topic="kit.test.pinged")

    await handled_after_sentinel(stack, "res-6")
    assert stack.calls[str(envelope.event_id)] == 1


async def test_event_is_delivered_again_when_its_inbox_entry_cannot_be_written(
    stack: Stack,
) -> None:
    envelope = Envelope.model_validate(entry_of(Pinged(resident_id="res-7"), "res-7"))
    event_id = str(envelope.event_id)
    stack.flaky_inbox.fail_once.add(event_id)

    await publish_envelope(stack.broker, envelope, topic="kit.test.pinged")

    # The batch was not committed: Kafka delivered it again and this time it was recorded.
    await eventually(lambda: stack.calls[event_id] == 2, what="redelivery")
    await eventually(lambda: not stack.flaky_inbox.fail_once, what="second attempt")
    await handled_after_sentinel(stack, "res-7")
    inbox = await stack.inbox.get(TENANT, event_id)
    assert inbox is not None and inbox["outcome"] == "handled"
    assert stack.calls[event_id] == 2
