"""The transactional outbox: events are stored with the state change, then relayed.

A repository saves an aggregate and its new events in one atomic write
(`collection.save(doc, expected_version=..., events=[outbox_entry(...)])`). The
`OutboxRelay` (in `relay`) claims aggregates with pending events (a lease, so replicas
never publish the same events at once), publishes each event to its topic keyed by tenant
and subject, and only then acknowledges them. A relay that dies between publishing and
acknowledging loses its lease and another one publishes again: consumers' inboxes absorb
the duplicate. This module holds what a producer needs: the stored form of an event and
publishing one envelope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context

from hearth_contracts import Envelope, EventData, new_envelope
from hearth_kit.messaging import headers as h
from hearth_kit.tracing import current_trace_headers, extract_context

_TRACE_HEADERS = ("traceparent", "tracestate")


def outbox_entry(
    data: EventData,
    *,
    tenant_id: str,
    subject: str,
    producer: str,
    trace: Mapping[str, str] | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """One event as it is stored in an aggregate's outbox: the JSON form of its envelope.

    Without `trace`, the current OpenTelemetry context (if any) is recorded, so the trace
    of the request that caused the event continues through Kafka to its consumers.
    """
    envelope = new_envelope(
        data,
        tenant_id=tenant_id,
        subject=subject,
        producer=producer,
        occurred_at=occurred_at,
        trace=dict(trace) if trace is not None else current_trace_headers(),
    )
    entry: dict[str, Any] = envelope.model_dump(mode="json")
    return entry


def event_headers(envelope: Envelope) -> dict[str, str]:
    """Kafka headers of an event: ids for routing and logs, and its trace context."""
    result = {
        h.CONTENT_TYPE: h.JSON,
        h.EVENT_ID: str(envelope.event_id),
        h.EVENT_TYPE: envelope.type,
        h.TENANT_ID: envelope.tenant_id,
    }
    for name in _TRACE_HEADERS:
        if name in envelope.trace:
            result[name] = envelope.trace[name]
    return result


async def enqueue_envelope(
    broker: KafkaBroker, envelope: Envelope, *, topic: str
) -> asyncio.Future[Any] | None:
    """Hand one event to the producer without waiting for the broker's acknowledgement.

    Returns the delivery future (None if the broker confirmed at once, as the in-memory
    test broker does). The publish span is a child of the trace recorded in the envelope,
    so a request, the event it caused and the handlers of that event form one trace.
    """
    token = otel_context.attach(extract_context(envelope.trace)) if envelope.trace else None
    try:
        result = await broker.publish(
            envelope.model_dump_json().encode(),
            topic=topic,
            key=envelope.partition_key,
            headers=event_headers(envelope),
            no_confirm=True,
        )
    finally:
        if token is not None:
            otel_context.detach(token)
    return result if isinstance(result, asyncio.Future) else None


async def publish_envelope(broker: KafkaBroker, envelope: Envelope, *, topic: str) -> None:
    """Publish one event and wait for the broker's acknowledgement."""
    delivery = await enqueue_envelope(broker, envelope, topic=topic)
    if delivery is not None:
        await delivery
