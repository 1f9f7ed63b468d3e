"""Outbox entries: the stored form of an event, and the headers it is published with.

The relay that publishes them is tested in test_relay.py and test_relay_lifecycle.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry.sdk.trace import TracerProvider

from hearth_contracts import Envelope
from hearth_kit.messaging import event_headers

from .relay_support import ping


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
