"""The consumer on the real embedded broker: retries, dead letters, poison messages,
duplicates, and redelivery when the inbox cannot be written."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from hearth_contracts import Envelope
from hearth_kit.messaging import publish_envelope

from .integration_support import TENANT, Stack, entry_of, handled_after_sentinel
from .support import Doomed, Flaky, Pinged, eventually, metric

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


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
