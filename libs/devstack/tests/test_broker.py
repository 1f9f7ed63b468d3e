"""The embedded broker speaks real Kafka to aiokafka."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hearth_devstack.broker import start_embedded_broker, wait_for_port

pytestmark = pytest.mark.integration


async def test_produce_and_consume_through_the_embedded_broker() -> None:
    with start_embedded_broker() as broker:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait("devstack.check", b"hello", key=b"k")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            "devstack.check",
            bootstrap_servers=broker.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id="devstack-check",
        )
        await consumer.start()
        try:
            message = await consumer.getone()
        finally:
            await consumer.stop()
        assert (message.key, message.value) == (b"k", b"hello")


def test_stopping_the_broker_closes_its_port() -> None:
    broker = start_embedded_broker()
    broker.stop()
    assert broker.process.poll() is not None
    with pytest.raises(TimeoutError):
        wait_for_port("127.0.0.1", broker.port, timeout=0.3)
