"""Outbox entries and the relay, against FastStream's in-memory test broker and SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope
from hearth_kit.messaging import OutboxRelay, event_headers, make_broker, outbox_entry
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, CollectionSpec
from hearth_kit.store.sqlite import SqliteStore

from .support import Pinged, eventually, metric

THINGS = CollectionSpec("things")
NO_BROKER: Any = object()  # for relays that never publish


@dataclass
class Received:
    envelope: Envelope
    key: bytes
    headers: dict[str, str]
    topic: str


def ping(resident: str, note: str = "", **kw: Any) -> dict[str, Any]:
    return outbox_entry(
        Pinged(resident_id=resident, note=note),
        tenant_id="council-a",
        subject=resident,
        producer="checkins",
        **kw,
    )


async def save_with_events(things: Collection, doc_id: str, *events: dict[str, Any]) -> None:
    await things.insert({"id": doc_id, "tenant_id": "council-a"}, events=list(events))


async def pending(things: Collection, doc_id: str) -> list[dict[str, Any]]:
    doc = await things.get("council-a", doc_id)
    assert doc is not None
    return list(doc["outbox"])


# ---- outbox_entry -------------------------------------------------------------------------
def test_outbox_entry_is_the_json_form_of_an_envelope() -> None:
    at = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    entry = ping("res-1", note="hi", occurred_at=at)

    envelope = Envelope.model_validate(entry)
    assert envelope.type == "kit.test.pinged"
    assert envelope.schema_version == 1
    assert envelope.tenant_id == "council-a"
    assert envelope.subject == "res-1"
    assert envelope.producer == "checkins"
    assert envelope.occurred_at == at
    assert envelope.data == {"resident_id": "res-1", "note": "hi"}
    assert entry["event_id"] == str(envelope.event_id)  # what ack_outbox matches on
    assert entry["trace"] == {}  # no span is active


def test_outbox_entry_records_the_current_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        entry = ping("res-1")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert entry["trace"]["traceparent"].split("-")[1] == trace_id

    explicit = ping("res-1", trace={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    assert explicit["trace"]["traceparent"].startswith("00-111")


def test_event_headers_carry_ids_and_trace() -> None:
    envelope = Envelope.model_validate(
        ping(
            "res-1",
            trace={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01", "baggage": "x=1"},
        )
    )
    assert event_headers(envelope) == {
        "content-type": "application/json",
        "x-event-id": str(envelope.event_id),
        "x-event-type": "kit.test.pinged",
        "x-tenant-id": "council-a",
        "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
    }


# ---- relay against the in-memory broker ----------------------------------------------------
@pytest_asyncio.fixture
async def things(store: SqliteStore) -> Collection:
    return await store.collection(THINGS)


@pytest_asyncio.fixture
async def test_broker(
    registry: CollectorRegistry,
) -> AsyncIterator[tuple[KafkaBroker, list[Received]]]:
    broker = make_broker(ServiceSettings(service_name="checkins"), registry=registry)
    received: list[Received] = []

    @broker.subscriber("kit.test.pinged")
    async def capture(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        received.append(
            Received(
                Envelope.model_validate_json(message.body),
                raw.key,
                dict(message.headers),
                raw.topic,
            )
        )

    async with TestKafkaBroker(broker):
        yield broker, received


def relay_for(
    things: Collection, broker: Any, registry: CollectorRegistry, **kw: Any
) -> OutboxRelay:
    kw.setdefault("owner", "relay-1")
    return OutboxRelay([things], broker, registry=registry, **kw)


async def test_relay_publishes_keyed_events_with_headers_and_acknowledges(
    things: Collection,
    test_broker: tuple[KafkaBroker, list[Received]],
    registry: CollectorRegistry,
) -> None:
    broker, received = test_broker
    entry = ping("res-1", trace={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    await save_with_events(things, "t1", entry)

    result = await relay_for(things, broker, registry).run_once()

    assert (result.claimed, result.published, result.failed) == (1, 1, 0)
    [got] = received
    assert got.topic == "kit.test.pinged"
    assert got.envelope == Envelope.model_validate(entry)
    assert got.key == b"council-a:res-1"
    assert got.headers["x-event-id"] == entry["event_id"]
    assert got.headers["x-event-type"] == "kit.test.pinged"
    assert got.headers["x-tenant-id"] == "council-a"
    # The publish span continues the trace recorded in the envelope.
    assert got.headers["traceparent"].split("-")[1] == "a" * 32
    assert await pending(things, "t1") == []
    assert metric(registry, "hearth_outbox_published_events_total", topic="kit.test.pinged") == 1
    # Nothing left: the next round claims nothing.
    assert (await relay_for(things, broker, registry).run_once()).claimed == 0


async def test_events_of_one_aggregate_go_out_in_order(
    things: Collection,
    test_broker: tuple[KafkaBroker, list[Received]],
    registry: CollectorRegistry,
) -> None:
    broker, received = test_broker
    await save_with_events(things, "t1", *(ping("res-1", note=str(i)) for i in range(5)))
    doc = await things.get("council-a", "t1")
    assert doc is not None
    await things.save(doc, expected_version=1, events=[ping("res-1", note="5")])

    await relay_for(things, broker, registry).run_once()

    assert [r.envelope.data["note"] for r in received] == ["0", "1", "2", "3", "4", "5"]


class FailingBroker:
    """Publishes nothing: the broker is unreachable."""

    def __init__(self) -> None:
        self.attempts = 0

    async def publish(self, *args: Any, **kwargs: Any) -> None:
        self.attempts += 1
        raise ConnectionError("broker unreachable")


async def test_failed_publish_keeps_the_events_and_the_lease(
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, received = test_broker
    await save_with_events(things, "t1", ping("res-1"), ping("res-1", note="second"))
    failing = FailingBroker()

    # A lease long enough that a loaded machine cannot expire it mid-round.
    result = await relay_for(things, failing, registry, lease_seconds=2.0).run_once()

    assert (result.claimed, result.published, result.failed) == (1, 0, 1)
    assert failing.attempts == 1  # stops at the first failure: order is kept
    assert len(await pending(things, "t1")) == 2
    assert metric(registry, "hearth_outbox_publish_errors_total", topic="kit.test.pinged") == 1
    # Another relay cannot take it while the lease lasts ...
    other = relay_for(things, broker, registry, owner="relay-2", lease_seconds=2.0)
    assert (await other.run_once()).claimed == 0
    # ... and publishes everything once it has expired.
    await asyncio.sleep(2.05)
    assert (await other.run_once()).published == 2
    assert [r.envelope.data["note"] for r in received] == ["", "second"]
    assert await pending(things, "t1") == []


async def test_an_entry_that_cannot_be_published_is_kept_not_dropped(
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, received = test_broker
    bad = {**ping("res-1"), "type": "kit.test.never_declared"}
    await save_with_events(things, "bad", bad)
    await save_with_events(things, "good", ping("res-2"))

    result = await relay_for(things, broker, registry).run_once()

    assert (result.claimed, result.published, result.failed) == (2, 1, 1)
    assert [r.envelope.subject for r in received] == ["res-2"]
    assert await pending(things, "bad") == [bad]
    assert metric(registry, "hearth_outbox_publish_errors_total", topic="invalid") == 1


async def test_relay_lag_is_the_age_of_the_oldest_claimed_event(
    things: Collection,
    registry: CollectorRegistry,
    test_broker: tuple[KafkaBroker, list[Received]],
) -> None:
    broker, _ = test_broker
    old = datetime.now(UTC) - timedelta(minutes=2)
    await save_with_events(things, "t1", ping("res-1", occurred_at=old), ping("res-1"))

    await relay_for(things, FailingBroker(), registry).run_once()
    assert metric(registry, "hearth_outbox_relay_lag_seconds") >= 120
    await relay_for(things, broker, registry, owner="relay-2", lease_seconds=0.01).run_once()
    assert metric(registry, "hearth_outbox_relay_lag_seconds") == 0  # nothing claimable


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


class UndeliveredBroker:
    """Accepts events, then the broker refuses them (delivery futures fail)."""

    def __init__(self) -> None:
        self.enqueued = 0

    async def publish(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        assert kwargs["no_confirm"] is True
        self.enqueued += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(ConnectionError("NOT_ENOUGH_REPLICAS"))
        return future


async def test_a_delivery_the_broker_refuses_is_not_acknowledged(
    things: Collection, registry: CollectorRegistry
) -> None:
    await save_with_events(things, "t1", ping("res-1"), ping("res-1", note="second"))
    broker = UndeliveredBroker()

    result = await relay_for(things, broker, registry).run_once()

    assert (result.claimed, result.published, result.failed) == (1, 0, 1)
    assert broker.enqueued == 2
    assert len(await pending(things, "t1")) == 2
    assert metric(registry, "hearth_outbox_publish_errors_total", topic="kit.test.pinged") == 2
    assert metric(registry, "hearth_outbox_published_events_total", topic="kit.test.pinged") == 0


class UnreachableBroker:
    """The producer waits for a broker that never answers."""

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()


async def test_a_round_gives_up_before_its_lease_ends(
    things: Collection, registry: CollectorRegistry
) -> None:
    await save_with_events(things, "t1", ping("res-1"))

    result = await relay_for(things, UnreachableBroker(), registry, lease_seconds=0.25).run_once()

    assert (result.claimed, result.published, result.failed) == (1, 0, 1)
    assert len(await pending(things, "t1")) == 1
    assert metric(registry, "hearth_outbox_publish_errors_total", topic="kit.test.pinged") == 1
