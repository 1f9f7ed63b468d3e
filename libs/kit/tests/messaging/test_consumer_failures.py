"""EventConsumer retries and dead letters: a failing handler is retried with backoff, and
what cannot be handled goes, bytes untouched, to the dead-letter topic."""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaBatchParser

from hearth_kit.messaging import publish_envelope
from hearth_kit.messaging.subscriber_hooks import lenient_parser

from .consumer_support import Harness, envelope_of, handled
from .support import Doomed, Flaky, Pinged, metric


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

    message = await lenient_parser((record,), parser.parse_batch)

    assert message.headers == {"x-bad": "\ufffd\ufffd", "x-good": "yes"}
    assert message.raw_message[0].value == b"{}"
