"""EventConsumer against FastStream's in-memory test broker and a real SQLite inbox:
handling, the inbox, context propagation, registration, and a batch it cannot record.

Retries and dead letters are in test_consumer_failures.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, topic_for
from hearth_kit.logging import current_log_context
from hearth_kit.messaging import (
    EventConsumer,
    inbox_spec,
    make_broker,
    outbox_entry,
    publish_envelope,
)
from hearth_kit.messaging import consumer as consumer_module
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, CollectionSpec, StoreError
from hearth_kit.store.sqlite import SqliteStore

from .consumer_support import Harness, envelope_of, handled
from .support import Flaky, Pinged, metric


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
