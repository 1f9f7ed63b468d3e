"""Dead letters: a record that cannot be handled goes, bytes untouched, to `<topic>.dlq`.

The original key and headers are kept, so the record can be replayed as it was; headers
added here say why it failed, where it came from and which service gave up on it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from hearth_contracts import Envelope, dead_letter_topic
from hearth_kit.messaging import headers as h
from hearth_kit.messaging.metrics import ConsumerMetrics

# The consumer's logger: a dead letter is logged under the same name as the rest of consuming.
logger = logging.getLogger("hearth.consumer")


def dead_letter_headers(
    record: ConsumerRecord[Any, Any],
    error: BaseException,
    *,
    attempts: int,
    reason: str,
    envelope: Envelope | None,
    service_name: str,
) -> dict[str, str]:
    """The record's own headers plus the error, the attempts and the record's origin."""
    headers = h.decode_headers(record.headers)
    headers.update(
        {
            h.ERROR: (str(error) or type(error).__name__)[: h.ERROR_MAX_CHARS],
            h.ERROR_TYPE: f"{type(error).__module__}.{type(error).__qualname__}",
            h.ATTEMPTS: str(attempts),
            h.REASON: reason,
            h.ORIGINAL_TOPIC: record.topic,
            h.ORIGINAL_PARTITION: str(record.partition),
            h.ORIGINAL_OFFSET: str(record.offset),
            h.DEAD_LETTERED_BY: service_name,
        }
    )
    if envelope is not None:
        headers[h.EVENT_ID] = str(envelope.event_id)
        headers[h.TENANT_ID] = envelope.tenant_id
        headers[h.EVENT_TYPE] = envelope.type
    return headers


class DeadLetters:
    """Publishes one service's dead letters; a failed publish raises (the batch is not
    committed and is delivered again, so nothing is dropped silently)."""

    def __init__(self, service_name: str, broker: KafkaBroker, metrics: ConsumerMetrics) -> None:
        self._service_name = service_name
        self._broker = broker
        self._metrics = metrics

    async def send(
        self,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        *,
        attempts: int,
        reason: str,
        envelope: Envelope | None,
    ) -> None:
        headers = dead_letter_headers(
            record,
            error,
            attempts=attempts,
            reason=reason,
            envelope=envelope,
            service_name=self._service_name,
        )
        target = dead_letter_topic(record.topic)
        await self._broker.publish(
            record.value or b"", topic=target, key=record.key, headers=headers
        )
        self._metrics.dead_lettered.labels(topic=record.topic, reason=reason).inc()
        if attempts == 0:
            # Handler failures are logged with their traceback by the consumer already.
            logger.warning(
                "record %s[%d]@%d sent to %s (%s): %s",
                record.topic,
                record.partition,
                record.offset,
                target,
                reason,
                error,
            )
