"""The outbox relay: publishes the events stored in aggregates' outboxes, then acknowledges.

Each round claims aggregates with pending events under a lease (so replicas never publish
the same events at once), hands their events to the producer, waits for the broker's
acknowledgements and acknowledges in the outbox each aggregate whose events all went out.
What is not acknowledged is claimed and published again once the lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from hearth_contracts import Envelope, topic_for
from hearth_kit.messaging.metrics import relay_metrics
from hearth_kit.messaging.outbox import enqueue_envelope
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import Collection, Document
from hearth_kit.tasks import finish_or_cancel

# Named for the outbox, whose events the relay publishes.
logger = logging.getLogger("hearth.outbox")


@dataclass(frozen=True)
class RelayRound:
    """What one relay round did."""

    claimed: int  # aggregates claimed
    published: int  # events the broker acknowledged
    failed: int  # aggregates left (not acknowledged) for a retry after their lease


def default_owner(service_name: str) -> str:
    """A relay owner name unique to this process: service, host, pid, random suffix."""
    return f"{service_name}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxRelay:
    """Publishes the outbox events of `collections` and acknowledges them.

    Wakes as soon as the store reports a write with events (`store.on_outbox`, when the
    adapter has it), else polls every `poll_seconds`. Each round hands the claimed events
    to the producer in order (events of one aggregate share a key, hence a partition, and
    the producer keeps a partition's order), waits for the broker to acknowledge them,
    and acknowledges in the outbox each aggregate whose events all went out. A failed
    publish is never dropped: the aggregate keeps its lease until it expires, then it is
    claimed and published again, and the relay backs off while failures continue. Start
    it after the broker is connected; `stop()` lets the round in flight finish.
    """

    def __init__(
        self,
        collections: Sequence[Collection],
        broker: KafkaBroker,
        *,
        owner: str,
        registry: CollectorRegistry,
        store: object | None = None,
        lease_seconds: float = 10.0,
        poll_seconds: float = 0.2,
        batch_size: int = 100,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        if not collections:
            raise ValueError("an outbox relay needs at least one collection")
        if lease_seconds <= 0 or poll_seconds <= 0 or batch_size < 1:
            raise ValueError("lease_seconds and poll_seconds must be > 0, batch_size >= 1")
        self.owner = owner
        self._collections = list(collections)
        self._broker = broker
        self._store = store
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._batch = batch_size
        self._max_backoff = max_backoff_seconds
        self._metrics = relay_metrics(registry)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening = False

    @classmethod
    def from_settings(
        cls,
        settings: ServiceSettings,
        collections: Sequence[Collection],
        broker: KafkaBroker,
        *,
        registry: CollectorRegistry,
        store: object | None = None,
    ) -> OutboxRelay:
        return cls(
            collections,
            broker,
            owner=default_owner(settings.service_name),
            registry=registry,
            store=store,
            lease_seconds=settings.outbox_lease_seconds,
            poll_seconds=settings.outbox_poll_seconds,
        )

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # ---- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        if not self._listening:
            register: Callable[[Callable[[], None]], None] | None = getattr(
                self._store, "on_outbox", None
            )
            if register is not None:
                register(self.wake)
                self._listening = True
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self.owner}")

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Stop after the batch in flight is published and acknowledged (or after
        `grace_seconds`, by default the lease: what is left is republished later)."""
        task = self._task
        if task is None:
            return
        self._stop.set()
        self._wake.set()
        try:
            await finish_or_cancel(task, grace_seconds or self._lease)
        finally:
            self._task = None
            self._loop = None

    def wake(self) -> None:
        """Ask for a round now (the store calls this after a write with events)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    # ---- the loop -----------------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                result = await self.run_once()
            except Exception:
                logger.exception("outbox relay round failed; retrying")
                result = RelayRound(claimed=0, published=0, failed=1)
            if result.failed:
                failures += 1
                delay = min(self._poll * 2**failures, self._max_backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                continue
            failures = 0
            if result.claimed >= self._batch:
                continue  # more are probably waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def run_once(self) -> RelayRound:
        """One round: claim aggregates with pending events, publish, acknowledge."""
        now = time.time()
        claimed: list[tuple[Collection, Document]] = []
        for collection in self._collections:
            docs = await collection.claim_outbox(
                now=now, owner=self.owner, lease_seconds=self._lease, limit=self._batch
            )
            claimed.extend((collection, doc) for doc in docs)
        if not claimed:
            self._metrics.lag.set(0)
            return RelayRound(claimed=0, published=0, failed=0)
        self._metrics.lag.set(_oldest_age(claimed, now))
        # Stop waiting well before the lease ends, so no other relay retakes an aggregate
        # while this one may still be publishing it.
        deadline = time.monotonic() + self._lease * 0.8

        # Hand every event to the producer first (one after another: the producer batches
        # them and keeps the order of each partition), then wait for the broker.
        batch = [await self._enqueue(collection, doc, deadline) for collection, doc in claimed]
        futures = [d.future for item in batch for d in item.deliveries if d.future is not None]
        if futures:
            await asyncio.wait(futures, timeout=max(0.0, deadline - time.monotonic()))

        published = failed = 0
        for item in batch:
            delivered, complete = self._confirmed(item)
            published += delivered
            if not complete:
                failed += 1
                continue
            event_ids = [d.event_id for d in item.deliveries]
            try:
                await item.collection.ack_outbox(item.doc["tenant_id"], item.doc["id"], event_ids)
            except Exception:
                logger.exception(
                    "acknowledging %d events of %s/%s failed; they will be published again",
                    len(event_ids),
                    item.collection.spec.name,
                    item.doc.get("id"),
                )
                failed += 1
        return RelayRound(claimed=len(claimed), published=published, failed=failed)

    async def _enqueue(self, collection: Collection, doc: Document, deadline: float) -> _Claimed:
        """Hand one aggregate's events to the producer in order, stopping at a failure."""
        item = _Claimed(collection, doc)
        for entry in doc.get("outbox") or []:
            try:
                envelope = Envelope.model_validate(entry)
                topic = topic_for(envelope.type)
            except (ValidationError, KeyError) as exc:
                # A bug in the producer, not a transient failure: keep it and say so loudly.
                self._metrics.publish_errors.labels(topic="invalid").inc()
                logger.error(
                    "outbox entry of %s/%s cannot be published and is kept: %s",
                    collection.spec.name,
                    doc.get("id"),
                    exc,
                    extra=_log_fields(doc.get("tenant_id"), _event_id(entry)),
                )
                item.complete = False
                break
            try:
                # The producer waits here when it cannot reach the broker: not past the lease.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the relay lease is nearly over")
                future = await asyncio.wait_for(
                    enqueue_envelope(self._broker, envelope, topic=topic), remaining
                )
            except Exception as exc:
                self._publish_failed(topic, envelope, exc)
                item.complete = False
                break
            if future is not None:
                future.add_done_callback(_retrieve)
            item.deliveries.append(_Delivery(topic, envelope, future))
        return item

    def _confirmed(self, item: _Claimed) -> tuple[int, bool]:
        """(events the broker acknowledged, whether all of the aggregate's did)."""
        ok = item.complete
        delivered = 0
        for delivery in item.deliveries:
            future = delivery.future
            if future is None or (
                future.done() and not future.cancelled() and future.exception() is None
            ):
                self._metrics.published.labels(topic=delivery.topic).inc()
                delivered += 1
                continue
            error: BaseException
            if not future.done():
                error = TimeoutError("no acknowledgement before the relay lease ends")
            elif future.cancelled():
                error = asyncio.CancelledError()
            else:
                error = future.exception() or RuntimeError("unknown")
            self._publish_failed(delivery.topic, delivery.envelope, error)
            ok = False
        return delivered, ok

    def _publish_failed(self, topic: str, envelope: Envelope, exc: BaseException) -> None:
        self._metrics.publish_errors.labels(topic=topic).inc()
        logger.warning(
            "publishing %s to %s failed (%s: %s); retrying after the lease",
            envelope.event_id,
            topic,
            type(exc).__name__,
            exc,
            extra=_log_fields(envelope.tenant_id, str(envelope.event_id)),
        )


@dataclass
class _Delivery:
    topic: str
    envelope: Envelope
    future: asyncio.Future[Any] | None

    @property
    def event_id(self) -> str:
        return str(self.envelope.event_id)


@dataclass
class _Claimed:
    collection: Collection
    doc: Document
    deliveries: list[_Delivery] = field(default_factory=list)
    complete: bool = True  # False if an event could not even be handed to the producer


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a delivery's failure as seen (it is reported when the round inspects it)."""
    if not future.cancelled():
        future.exception()


def _log_fields(tenant_id: Any, event_id: str | None) -> dict[str, Any]:
    return {"fields": {"tenant_id": tenant_id, "event_id": event_id}}


def _event_id(entry: Any) -> str | None:
    return str(entry.get("event_id")) if isinstance(entry, dict) else None


def _oldest_age(claimed: Sequence[tuple[Collection, Document]], now: float) -> float:
    oldest: float | None = None
    for _, doc in claimed:
        for entry in doc.get("outbox") or []:
            raw = entry.get("occurred_at") if isinstance(entry, dict) else None
            if not isinstance(raw, str):
                continue
            try:
                at = datetime.fromisoformat(raw).timestamp()
            except ValueError:
                continue
            oldest = at if oldest is None else min(oldest, at)
    return max(0.0, now - oldest) if oldest is not None else 0.0
