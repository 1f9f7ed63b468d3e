"""EventConsumer against FastStream's in-memory test broker and a real SQLite inbox."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaBatchParser
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, new_envelope, topic_for
from hearth_kit.logging import current_log_context
from hearth_kit.messaging import (
    EventConsumer,
    PermanentError,
    inbox_spec,
    make_broker,
    outbox_entry,
    publish_envelope,
)
from hearth_kit.messaging import consumer as consumer_module
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, CollectionSpec, StoreError
from hearth_kit.store.sqlite import SqliteStore

from .support import Doomed, Flaky, Pinged, metric


@dataclass
class Captured:
    body: bytes
    headers: dict[str, str]
    key: bytes | None


@dataclass
class Harness:
    broker: KafkaBroker
    consumer: EventConsumer
    inbox: Collection
    registry: CollectorRegistry
    calls: list[tuple[str, Any, Envelope]] = field(default_factory=list)
    dlq: list[Captured] = field(default_factory=list)
    fails: dict[str, int] = field(default_factory=dict)


def envelope_of(data: Any, subject: str = "res-1", tenant: str = "council-a") -> Envelope:
    return new_envelope(data, tenant_id=tenant, subject=subject, producer="test")


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


def handled(h: Harness, kind: str) -> list[Any]:
    return [c for c in h.calls if c[0] == kind]


async def test_handles_an_event_and_records_it_in_the_inbox(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1"))
    await publish_envelope(harness.broker, env, topic=topic_for(env.type))

    [(_, data, received)] = handled(harness, "pinged")
    assert data == Pinged(resident_id="res-1")
    assert received == env
    entry = await harness.inbox.get("council-a", str(env.event_id))
    assert entry is not None
    assert entry["outcome"] == "handled"
    assert entry["type"] == "kit.test.pinged"
    assert entry["expires_at"] > time.time() + 6 * 24 * 3600
    assert not harness.dlq
    assert (
        metric(
            harness.registry,
            "hearth_events_consumed_total",
            topic="kit.test.pinged",
            outcome="handled",
        )
        == 1
    )


async def test_duplicate_delivery_is_handled_once(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1"))
    for _ in range(3):
        await publish_envelope(harness.broker, env, topic=topic_for(env.type))

    assert len(handled(harness, "pinged")) == 1
    assert (
        metric(
            harness.registry,
            "hearth_events_consumed_total",
            topic="kit.test.pinged",
            outcome="duplicate",
        )
        == 2
    )


async def test_inbox_is_per_tenant(harness: Harness) -> None:
    first = envelope_of(Pinged(resident_id="res-1"), tenant="council-a")
    # Same event id under another tenant is another tenant's event, not a duplicate.
    other = first.model_copy(update={"tenant_id": "council-b"})
    await publish_envelope(harness.broker, first, topic="kit.test.pinged")
    await publish_envelope(harness.broker, other, topic="kit.test.pinged")

    assert [c[2].tenant_id for c in handled(harness, "pinged")] == ["council-a", "council-b"]


async def test_handler_failing_twice_then_succeeding_is_handled_once(harness: Harness) -> None:
    env = envelope_of(Flaky(resident_id="res-1", fail_times=2))
    await publish_envelope(harness.broker, env, topic="kit.test.flaky")

    assert len(handled(harness, "flaky")) == 3
    entry = await harness.inbox.get("council-a", str(env.event_id))
    assert entry is not None and entry["outcome"] == "handled"
    assert not harness.dlq
    assert (
        metric(harness.registry, "hearth_event_handler_retries_total", topic="kit.test.flaky") == 2
    )
    # Redelivered later (a relay retry): not handled again.
    await publish_envelope(harness.broker, env, topic="kit.test.flaky")
    assert len(handled(harness, "flaky")) == 3


async def test_always_failing_handler_dead_letters_the_original_bytes(harness: Harness) -> None:
    env = envelope_of(Doomed(resident_id="res-9"), subject="res-9")
    await publish_envelope(harness.broker, env, topic="kit.test.doomed")

    assert len(handled(harness, "doomed")) == 3  # max_attempts
    [dead] = harness.dlq
    assert dead.body == env.model_dump_json().encode()
    assert dead.key == b"council-a:res-9"
    assert dead.headers["x-error"] == "the rota is missing"
    assert dead.headers["x-error-type"] == "builtins.ValueError"
    assert dead.headers["x-attempts"] == "3"
    assert dead.headers["x-dead-letter-reason"] == "handler_failed"
    assert dead.headers["x-original-topic"] == "kit.test.doomed"
    assert dead.headers["x-original-partition"] == "0"
    assert dead.headers["x-original-offset"] == "0"
    assert dead.headers["x-event-id"] == str(env.event_id)
    assert dead.headers["x-tenant-id"] == "council-a"
    assert dead.headers["x-dead-lettered-by"] == "alerts"
    entry = await harness.inbox.get("council-a", str(env.event_id))
    assert entry is not None and entry["outcome"] == "dead_lettered"
    assert (
        metric(
            harness.registry,
            "hearth_events_dead_lettered_total",
            topic="kit.test.doomed",
            reason="handler_failed",
        )
        == 1
    )
    # A redelivery of a dead-lettered event is not dead-lettered twice.
    await publish_envelope(harness.broker, env, topic="kit.test.doomed")
    assert len(harness.dlq) == 1
    assert len(handled(harness, "doomed")) == 3


async def test_permanent_error_is_not_retried(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1", note="permanent"))
    await publish_envelope(harness.broker, env, topic="kit.test.pinged")

    assert len(handled(harness, "pinged")) == 1
    [dead] = harness.dlq
    assert dead.headers["x-attempts"] == "1"
    assert dead.headers["x-dead-letter-reason"] == "permanent"
    assert dead.headers["x-error-type"] == "hearth_kit.messaging.consumer.PermanentError"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid_envelope"),
        (b"\xff\xfe binary", "invalid_envelope"),
        (b"", "invalid_envelope"),
        (b'{"event_id": "not-a-uuid"}', "invalid_envelope"),
    ],
)
async def test_poison_message_goes_straight_to_the_dead_letter_topic(
    harness: Harness, body: bytes, reason: str
) -> None:
    await harness.broker.publish(body, topic="kit.test.pinged", key=b"k")

    assert harness.calls == []
    [dead] = harness.dlq
    assert dead.body == body
    assert dead.headers["x-dead-letter-reason"] == reason
    assert dead.headers["x-attempts"] == "0"
    assert dead.headers["x-original-topic"] == "kit.test.pinged"
    assert dead.headers["x-error-type"] == "hearth_kit.messaging.consumer.InvalidEvent"
    assert dead.headers["x-error"]
    assert (
        metric(
            harness.registry,
            "hearth_events_consumed_total",
            topic="kit.test.pinged",
            outcome="rejected",
        )
        == 1
    )


async def test_invalid_payload_is_dead_lettered_without_retries(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1"))
    bad = env.model_copy(update={"data": {"resident_id": 42, "surprise": True}})
    await publish_envelope(harness.broker, bad, topic="kit.test.pinged")

    assert harness.calls == []
    [dead] = harness.dlq
    assert dead.headers["x-dead-letter-reason"] == "invalid_payload"
    assert "resident_id" in dead.headers["x-error"]
    assert dead.headers["x-event-id"] == str(env.event_id)
    entry = await harness.inbox.get("council-a", str(env.event_id))
    assert entry is not None and entry["outcome"] == "rejected"


async def test_unknown_type_and_version_are_dead_lettered(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1"))
    await publish_envelope(
        harness.broker, env.model_copy(update={"type": "kit.test.unheard"}), topic="kit.test.pinged"
    )
    await publish_envelope(
        harness.broker,
        env.model_copy(
            update={"schema_version": 2, "event_id": envelope_of(Pinged(resident_id="x")).event_id}
        ),
        topic="kit.test.pinged",
    )

    assert harness.calls == []
    assert [d.headers["x-dead-letter-reason"] for d in harness.dlq] == [
        "unknown_type",
        "unsupported_version",
    ]


async def test_handler_runs_with_tenant_and_event_id_in_the_log_context(harness: Harness) -> None:
    env = envelope_of(Pinged(resident_id="res-1", note="log-context"))
    await publish_envelope(harness.broker, env, topic="kit.test.pinged")

    [(_, fields, _)] = handled(harness, "log")
    assert fields == {"tenant_id": "council-a", "event_id": str(env.event_id)}
    assert current_log_context() == {}


async def test_trace_context_crosses_from_the_outbox_to_the_handler(harness: Harness) -> None:
    provider = TracerProvider()
    with provider.get_tracer("test").start_as_current_span("request") as span:
        entry = outbox_entry(
            Pinged(resident_id="res-1", note="trace"),
            tenant_id="council-a",
            subject="res-1",
            producer="checkins",
        )
        request_trace = format(span.get_span_context().trace_id, "032x")
    assert entry["trace"]["traceparent"].split("-")[1] == request_trace

    await publish_envelope(harness.broker, Envelope.model_validate(entry), topic="kit.test.pinged")

    [(_, handler_trace, _)] = handled(harness, "trace")
    assert handler_trace == request_trace


async def test_sweep_deletes_expired_inbox_entries(harness: Harness) -> None:
    now = time.time()
    await harness.inbox.insert(
        {"id": "old", "tenant_id": "council-a", "outcome": "handled", "expires_at": now - 1}
    )
    await harness.inbox.insert(
        {"id": "new", "tenant_id": "council-a", "outcome": "handled", "expires_at": now + 60}
    )

    assert await harness.consumer.sweep() == 1
    assert await harness.inbox.get("council-a", "old") is None
    assert await harness.inbox.get("council-a", "new") is not None


async def test_subscribes_once_with_the_service_group_over_all_topics(harness: Harness) -> None:
    assert harness.consumer.topics == ["kit.test.doomed", "kit.test.flaky", "kit.test.pinged"]
    subscriber = harness.consumer.subscribe()  # idempotent
    assert subscriber.group_id == "alerts"
    groups = [s for s in harness.broker.subscribers if getattr(s, "group_id", None)]
    assert groups == [subscriber]
    assert sorted(subscriber.topic_names) == harness.consumer.topics


class _BrokenInbox(Collection):
    """An inbox whose writes fail (the database is gone)."""

    def __init__(self, inner: Collection) -> None:
        self.spec = inner.spec
        self._inner = inner

    async def get(self, tenant_id: str, doc_id: str) -> Any:
        return await self._inner.get(tenant_id, doc_id)

    async def insert(self, doc: Any, *, events: Any = ()) -> Any:
        raise StoreError("disk I/O error")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    find = save = delete = claim_outbox = ack_outbox = claim_due = None  # type: ignore[assignment]
    next_due = count_due = increment = expire = None  # type: ignore[assignment]


async def test_batch_is_not_committed_when_the_inbox_cannot_be_written(
    store: SqliteStore, registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer_module, "_INFRA_RETRY_SECONDS", 0.0)
    broker = make_broker(ServiceSettings(service_name="alerts"), registry=registry)
    inbox = _BrokenInbox(await store.collection(inbox_spec("alerts")))
    consumer = EventConsumer("alerts", broker, inbox, registry=registry)
    calls: list[str] = []

    @consumer.handle(Pinged)
    async def on_pinged(data: Pinged, envelope: Envelope) -> None:
        calls.append(data.resident_id)

    env = envelope_of(Pinged(resident_id="res-1"))
    record = ConsumerRecord(
        topic="kit.test.pinged",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=env.partition_key,
        value=env.model_dump_json().encode(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=(),
    )
    with pytest.raises(StoreError):
        await consumer.process([record])
    assert calls == ["res-1"]  # handled, but not recorded: it will be delivered again
    await consumer.stop()


async def test_registration_mistakes_are_refused(
    store: SqliteStore, registry: CollectorRegistry
) -> None:
    broker = make_broker(ServiceSettings(service_name="alerts"), registry=registry)
    inbox = await store.collection(inbox_spec("alerts"))
    consumer = EventConsumer("alerts", broker, inbox, registry=registry)
    with pytest.raises(RuntimeError, match="no handlers"):
        consumer.subscribe()

    async def handler(data: Pinged, envelope: Envelope) -> None: ...

    consumer.handle(Pinged)(handler)
    with pytest.raises(ValueError, match="already has a handler"):
        consumer.handle(Pinged)(handler)
    consumer.subscribe()
    with pytest.raises(RuntimeError, match="before subscribe"):
        consumer.handle(Flaky)
    with pytest.raises(ValueError, match="expires_field"):
        EventConsumer(
            "alerts", broker, await store.collection(CollectionSpec("plain")), registry=registry
        )
    with pytest.raises(ValueError, match="max_attempts"):
        EventConsumer("alerts", broker, inbox, registry=registry, max_attempts=0)


def test_inbox_spec_names_a_collection_per_service() -> None:
    spec = inbox_spec("check-ins")
    assert spec.name == "check_ins_inbox"
    assert spec.expires_field == "expires_at"


async def test_headers_that_are_not_utf8_do_not_poison_a_batch() -> None:
    parser = AioKafkaBatchParser(msg_class=KafkaAckableMessage, regex=None)
    record = ConsumerRecord(
        topic="kit.test.pinged",
        partition=0,
        offset=1,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"{}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=2,
        headers=[("x-bad", b"\xff\xfe"), ("x-good", b"yes")],
    )
    with pytest.raises(UnicodeDecodeError):
        await parser.parse_batch((record,))

    message = await consumer_module._lenient_parser((record,), parser.parse_batch)

    assert message.headers == {"x-bad": "\ufffd\ufffd", "x-good": "yes"}
    assert message.raw_message[0].value == b"{}"
