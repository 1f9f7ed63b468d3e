"""Tailing topics with no consumer group: every replica reads every partition, so each
sees every event (for fan-out to what is connected to it, not for processing once).

Reading starts at the end of the topics when the tail starts: what happened before is
in the store, and a replica that starts late has nothing to catch up on here. A topic
created after the start is read from its beginning once its metadata is refreshed
(`metadata_max_age_ms`). Nothing is committed; a record that is not a valid event is
skipped, and a failing callback costs that record only, never the tail.

Without a group the client reassigns partitions itself when topic metadata changes, and
a reassigned partition starts over from its beginning; the tail remembers how far it has
read each partition, skips what it has seen and seeks back there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from hearth_contracts import Envelope
from hearth_kit.messaging.headers import TENANT_ID, decode_headers
from hearth_kit.tasks import cancel_and_wait

log = logging.getLogger("hearth.tail")

# After a failed fetch, wait this long before the next (the broker may be restarting).
_RETRY_SECONDS = 1.0


class TopicTail:
    """Hands every event published on `topics` from now on to `on_event`.

    `wanted(tenant_id)` (from the record's headers, before parsing) lets a tail skip the
    events of councils nobody here listens to. A `Background` of the service runtime."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        on_event: Callable[[Envelope], object],
        *,
        name: str,
        wanted: Callable[[str], bool] | None = None,
        fetch_max_wait_ms: int = 20,
        metadata_max_age_ms: int = 3000,
    ) -> None:
        self.topics = list(topics)
        self.name = name
        self._bootstrap = bootstrap_servers
        self._on_event = on_event
        self._wanted = wanted
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._metadata_max_age_ms = metadata_max_age_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        # The next offset to hand on, per partition read so far.
        self._next: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=None,
            client_id=self.name,
            enable_auto_commit=False,
            # For topics that appear later; the ones assigned now are read from their end.
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            metadata_max_age_ms=self._metadata_max_age_ms,
        )
        await consumer.start()
        assigned = consumer.assignment()
        if assigned:
            # Seeking to the end offsets asked now (rather than `seek_to_end`, resolved
            # lazily, and by the embedded broker to the last record instead of after it).
            ends = await consumer.end_offsets(list(assigned))
            for partition, end in ends.items():
                consumer.seek(partition, end)
                self._next[partition] = end
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            await consumer.stop()
        except asyncio.CancelledError:
            # aiokafka's fetcher surfaces its own cancellation when the broker is gone;
            # only a cancellation of this task itself goes on.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            log.warning("%s stopped without reaching the broker", self.name)

    def handle(self, value: bytes | None, raw_headers: Any = ()) -> None:
        """One record: skip it if unwanted or not an event, else hand it on."""
        tenant = decode_headers(raw_headers).get(TENANT_ID)
        if tenant is not None and self._wanted is not None and not self._wanted(tenant):
            return
        try:
            self._on_event(Envelope.model_validate_json(value or b""))
        except ValidationError:
            log.warning("%s skipped a record that is not a valid event", self.name)
        except Exception:
            log.exception("%s could not hand on an event; it goes on with the next", self.name)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s could not fetch; retrying", self.name)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            for partition, records in batches.items():
                self._take(consumer, partition, records)

    def _take(self, consumer: AIOKafkaConsumer, partition: TopicPartition, records: Any) -> None:
        floor = self._next.get(partition, 0)
        if records and records[0].offset < floor:
            # The client reassigned the partition and started it over: back to our place.
            consumer.seek(partition, floor)
        for record in records:
            if record.offset >= floor:
                self.handle(record.value, record.headers)
                floor = record.offset + 1
        self._next[partition] = floor
