"""Feed of the staff consoles' live stream: every replica tails the alerts service's own
event topics (no consumer group, so each replica sees every event) and hands each event
to its in-process hub, which fans it out to the consoles of that council."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from hearth_alerts.channels.console import StreamHub
from hearth_contracts import Envelope, topic_for
from hearth_contracts.alerts import (
    AlertAcknowledged,
    AlertEscalated,
    AlertRaised,
    AlertResolved,
    NotificationSent,
)
from hearth_kit.messaging.headers import TENANT_ID, decode_headers

log = logging.getLogger("hearth.alerts.stream")

STREAM_EVENTS = (AlertRaised, AlertAcknowledged, AlertEscalated, AlertResolved, NotificationSent)


def stream_view(envelope: Envelope) -> dict[str, Any]:
    """What a console receives: the event without its trace context."""
    return {
        "event_id": str(envelope.event_id),
        "type": envelope.type,
        "subject": envelope.subject,
        "occurred_at": envelope.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": envelope.data,
    }


class StreamFeed:
    """Tails the alerts topics from their end (topics that appear later are read from
    their start) and publishes each event to the hub of its council."""

    def __init__(
        self,
        bootstrap_servers: str,
        hub: StreamHub,
        *,
        fetch_max_wait_ms: int = 20,
        metadata_max_age_ms: int = 3000,
        client_id: str = "alerts-stream",
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._hub = hub
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._metadata_max_age_ms = metadata_max_age_ms
        self._client_id = client_id
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.topics = [topic_for(model.TYPE) for model in STREAM_EVENTS]

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=None,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            metadata_max_age_ms=self._metadata_max_age_ms,
        )
        await consumer.start()
        assigned = consumer.assignment()
        if assigned:
            await consumer.seek_to_end(*assigned)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name="alerts-stream-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live stream feed could not fetch; retrying")
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for record in records:
                    self._publish(record.value, record.headers)

    def _publish(self, value: bytes | None, raw_headers: Any = ()) -> None:
        # Most events have no console of their council connected here: skip parsing them.
        tenant = decode_headers(raw_headers).get(TENANT_ID)
        if tenant is not None and self._hub.count(tenant) == 0:
            return
        try:
            envelope = Envelope.model_validate_json(value or b"")
        except ValidationError:
            log.warning("live stream feed skipped a record that is not an event envelope")
            return
        self._hub.publish(envelope.tenant_id, stream_view(envelope))
