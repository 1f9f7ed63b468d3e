"""Fixtures of the messaging tests: test event types in the catalogue, a store, a registry,
the consumer harness, the relay's collection and in-memory broker, and the integration
stack on the embedded broker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope
from hearth_contracts.registry import EVENT_TYPES
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.logging import current_log_context
from hearth_kit.messaging import EventConsumer, PermanentError, inbox_spec, make_broker
from hearth_kit.messaging import consumer as consumer_module
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection
from hearth_kit.store.sqlite import SqliteStore

from .consumer_support import Captured, Harness
from .integration_support import Stack, start_stack
from .relay_support import THINGS, Received
from .support import TEST_EVENT_TYPES, Doomed, Flaky, Pinged


@pytest.fixture(scope="module", autouse=True)
def test_event_types() -> Iterator[None]:
    """Register the test event types in the catalogue (topic_for needs them) while this
    directory's modules run, so tests of the catalogue elsewhere never see them."""
    added = {cls.TYPE: cls for cls in TEST_EVENT_TYPES}
    EVENT_TYPES.update(added)
    yield
    for name in added:
        EVENT_TYPES.pop(name, None)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    db = SqliteStore(tmp_path / "messaging.sqlite3")
    yield db
    await db.close()


# ---- the consumer against the in-memory broker (test_consumer*.py) ------------------------
@pytest_asyncio.fixture
async def harness(store: SqliteStore, registry: CollectorRegistry) -> AsyncIterator[Harness]:
    broker = make_broker(ServiceSettings(service_name="alerts"), registry=registry)
    inbox = await store.collection(inbox_spec("alerts"))
    consumer = EventConsumer(
        "alerts", broker, inbox, registry=registry, max_attempts=3, backoff=(0.0, 0.001)
    )
    h = Harness(broker=broker, consumer=consumer, inbox=inbox, registry=registry)

    @consumer.handle(Pinged)
    async def on_pinged(data: Pinged, envelope: Envelope) -> None:
        h.calls.append(("pinged", data, envelope))
        if data.note == "permanent":
            raise PermanentError("resident unknown")
        if data.note == "log-context":
            h.calls.append(("log", current_log_context(), envelope))
        if data.note == "trace":
            ctx = trace.get_current_span().get_span_context()
            h.calls.append(("trace", format(ctx.trace_id, "032x"), envelope))

    @consumer.handle(Flaky)
    async def on_flaky(data: Flaky, envelope: Envelope) -> None:
        h.calls.append(("flaky", data, envelope))
        done = h.fails.get(str(envelope.event_id), 0)
        if done < data.fail_times:
            h.fails[str(envelope.event_id)] = done + 1
            raise RuntimeError(f"transient failure {done + 1}")

    @consumer.handle(Doomed)
    async def on_doomed(data: Doomed, envelope: Envelope) -> None:
        h.calls.append(("doomed", data, envelope))
        raise ValueError("the rota is missing")

    consumer.subscribe()

    for topic in ("kit.test.pinged.dlq", "kit.test.flaky.dlq", "kit.test.doomed.dlq"):

        @broker.subscriber(topic)
        async def capture(message: KafkaMessage) -> None:
            raw: Any = message.raw_message
            h.dlq.append(Captured(message.body, dict(message.headers), raw.key))

    async with TestKafkaBroker(broker):
        yield h
    await consumer.stop()


# ---- the relay against the in-memory broker (test_relay*.py) ------------------------------
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


# ---- the whole event path on the embedded broker (test_integration_*.py) ------------------
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, test_event_types: None
) -> AsyncIterator[Stack]:
    """One broker, one service stack and one consumer-group join per module (a join costs
    seconds); each test uses its own aggregates, subjects and event ids."""
    async with contextlib.AsyncExitStack() as cleanup:
        patch = cleanup.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(consumer_module, "_INFRA_RETRY_SECONDS", 0.05)
        embedded = cleanup.enter_context(start_embedded_broker())
        store = SqliteStore(tmp_path_factory.mktemp("integration") / "kit-it.sqlite3")
        cleanup.push_async_callback(store.close)
        async for running in start_stack(embedded.bootstrap_servers, store, cleanup):
            yield running
