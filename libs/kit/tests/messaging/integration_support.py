"""The integration stack on the real embedded broker: SQLite outbox -> relay -> Kafka
protocol -> consumer group -> inbox -> handler, retries and dead letters.

The module-scoped `stack` fixture (one broker, one stack and one consumer-group join per
test module, since a join costs seconds) is in conftest.py; each test uses its own
aggregates, subjects and event ids.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, EventData
from hearth_kit.messaging import (
    EventConsumer,
    OutboxRelay,
    inbox_spec,
    make_broker,
    outbox_entry,
    publish_envelope,
)
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, CollectionSpec, StoreError
from hearth_kit.store.sqlite import SqliteStore

from .support import Doomed, Flaky, Pinged, eventually

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


async def start_stack(
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
