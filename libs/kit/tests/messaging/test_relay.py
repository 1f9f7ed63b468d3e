"""One relay round (`run_once`) against FastStream's in-memory test broker and SQLite:
what is published, in which order, and what is kept when publishing fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope
from hearth_kit.store.port import Collection

from .relay_support import FailingBroker, Received, pending, ping, relay_for, save_with_events
from .support import metric


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
