"""Tailing topics with no consumer group: records are handed on from the end of the
topics, unwanted councils and invalid records skipped, a failing callback survived."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from hearth_contracts import Envelope, new_envelope
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.messaging import TopicTail, event_headers

from .support import Pinged, eventually


def pinged(tenant: str, note: str = "") -> Envelope:
    return new_envelope(
        Pinged(resident_id="r1", note=note), tenant_id=tenant, subject="r1", producer="tests"
    )


def record(envelope: Envelope) -> tuple[bytes, list[tuple[str, bytes]]]:
    headers = [(k, v.encode()) for k, v in event_headers(envelope).items()]
    return envelope.model_dump_json().encode(), headers


def test_events_are_handed_on_and_unwanted_councils_skipped() -> None:
    seen: list[Envelope] = []
    tail = TopicTail("unused:9092", ["kit.test.pinged"], seen.append, name="t",
                     wanted=lambda tenant: tenant == "north")  # fmt: skip
    north, south = pinged("north"), pinged("south")
    tail.handle(*record(north))
    tail.handle(*record(south))
    # No tenant header: parsed and handed on (the tail cannot tell whose it is).
    tail.handle(south.model_dump_json().encode(), [])
    assert [e.event_id for e in seen] == [north.event_id, south.event_id]


def test_invalid_records_and_failing_callbacks_cost_one_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def on_event(envelope: Envelope) -> None:
        if envelope.data["note"] == "boom":
            raise RuntimeError("boom")
        seen.append(envelope.data["note"])

    tail = TopicTail("unused:9092", ["kit.test.pinged"], on_event, name="t")
    with caplog.at_level(logging.WARNING, logger="hearth.tail"):
        tail.handle(b"not json")
        tail.handle(None)
        tail.handle(*record(pinged("north", "boom")))
        tail.handle(*record(pinged("north", "fine")))
    assert seen == ["fine"]
    assert sum("not a valid event" in r.message for r in caplog.records) == 2
    assert any("could not hand on" in r.message for r in caplog.records)


def test_a_partition_started_over_is_taken_back_to_where_the_tail_was() -> None:
    """A new topic makes the client reassign every partition, from their beginning."""
    seen: list[str] = []
    seeks: list[tuple[TopicPartition, int]] = []
    tail = TopicTail("unused:9092", ["kit.test.pinged"], lambda e: seen.append(e.data["note"]),
                     name="t")  # fmt: skip
    partition = TopicPartition("kit.test.pinged", 0)
    tail._next[partition] = 2

    class Consumer:
        def seek(self, tp: TopicPartition, offset: int) -> None:
            seeks.append((tp, offset))

    records = [
        SimpleNamespace(offset=n, value=record(pinged("north", f"n{n}"))[0], headers=[])
        for n in range(4)
    ]
    tail._take(Consumer(), partition, records)
    assert seen == ["n2", "n3"]
    assert seeks == [(partition, 2)]
    assert tail._next[partition] == 4


async def until_visible(bootstrap_servers: str, sent: RecordMetadata) -> None:
    """Wait until the broker counts `sent` in its partition's end offset (the embedded
    broker may acknowledge a record a moment before it does)."""
    partition = TopicPartition(sent.topic, sent.partition)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    await probe.start()
    try:
        while (await probe.end_offsets([partition]))[partition] <= sent.offset:
            await asyncio.sleep(0.05)
    finally:
        await probe.stop()


@pytest.mark.integration
async def test_a_tail_reads_from_the_end_of_its_topics() -> None:
    seen: list[str] = []
    with start_embedded_broker() as broker:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
        await producer.start()
        try:

            async def send(envelope: Envelope) -> RecordMetadata:
                value, headers = record(envelope)
                return await producer.send_and_wait("kit.test.pinged", value, headers=headers)

            before = await send(pinged("north", "before"))
            await until_visible(broker.bootstrap_servers, before)
            tail = TopicTail(
                broker.bootstrap_servers,
                ["kit.test.pinged"],
                lambda envelope: seen.append(envelope.data["note"]),
                name="kit-test-tail",
                metadata_max_age_ms=300,
            )
            await tail.start()
            try:
                await send(pinged("north", "after"))
                await eventually(lambda: seen == ["after"], timeout=20, what="the tail")
                await asyncio.sleep(0.3)
                assert seen == ["after"]
            finally:
                await tail.stop()
        finally:
            await producer.stop()
