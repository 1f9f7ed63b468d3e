"""Consuming events: one consumer group per service, an inbox, retries, dead letters.

`EventConsumer` registers one FastStream batch subscriber (group id = service name) over
the topics of every event type it handles, so a service joins its group once however many
topics it reads. Each batch is split by partition: partitions are handled concurrently,
the records of one partition strictly in order. For each record:

1. parse the envelope and its payload; anything unparseable, of an unknown type or with
   an invalid payload goes straight to `<topic>.dlq` (retrying cannot fix it);
2. skip it if the inbox already holds its event id (a duplicate from an outbox relay
   retry or a redelivery);
3. call the handler, retrying with backoff; a `PermanentError` (or another declared
   permanent type) is not retried; after the last attempt the original bytes go to
   `<topic>.dlq` with the error in headers;
4. record the event id in the inbox (with an expiry; a sweeper deletes old entries).

Offsets are committed after the whole batch is processed (batches hold at most
`max_records`, so even a batch whose every handler fails and backs off ends well within
the consumer's poll interval). If the inbox or the dead-letter topic cannot be written,
the batch is not committed and is delivered again: nothing is dropped silently.

The inbox, the retry policy and dead-lettering live in `inbox`, `retry` and `dead_letter`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, TracerProvider
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from hearth_contracts import Envelope, EventData, dead_letter_topic, topic_for
from hearth_kit.logging import log_context
from hearth_kit.messaging import headers as h
from hearth_kit.messaging.dead_letter import DeadLetters
from hearth_kit.messaging.inbox import INBOX_TTL_SECONDS, Inbox
from hearth_kit.messaging.metrics import consumer_metrics, observe_consumer_lag
from hearth_kit.messaging.retry import RetryPolicy
from hearth_kit.messaging.subscriber_hooks import lenient_parser, raw_bodies
from hearth_kit.store.port import Collection
from hearth_kit.tasks import cancel_and_wait
from hearth_kit.tracing import extract_context

logger = logging.getLogger("hearth.consumer")

D = TypeVar("D", bound=EventData)
Handler = Callable[[D, Envelope], Awaitable[None]]

# How long to wait before a batch that could not be recorded is delivered again.
_INFRA_RETRY_SECONDS = 1.0


# The error types stay in this module: dead letters name their module in the x-error-type
# header, so moving them would change what dead letters say.
class PermanentError(Exception):
    """A handler failure that retrying cannot fix: the event is dead-lettered at once."""


class InvalidEvent(Exception):
    """A record that can never be handled (bad JSON, unknown type, invalid payload)."""

    def __init__(self, reason: str, message: str, envelope: Envelope | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.envelope = envelope


@dataclass(frozen=True)
class _Route:
    model: type[EventData]
    handler: Handler[Any]
    topic: str


class EventConsumer:
    """Handlers of one service's events, behind one consumer group.

    consumer = EventConsumer("alerts", broker, inbox, registry=registry)

    @consumer.handle(CheckInMissed)
    async def on_missed(data: CheckInMissed, envelope: Envelope) -> None: ...

    consumer.subscribe()          # before the broker starts
    await consumer.start()        # inbox sweeper (also started by the first batch)
    """

    def __init__(
        self,
        service_name: str,
        broker: KafkaBroker,
        inbox: Collection,
        *,
        registry: CollectorRegistry,
        max_attempts: int = 4,
        backoff: Sequence[float] = (0.05, 0.2, 1.0),
        permanent_errors: tuple[type[BaseException], ...] = (PermanentError,),
        inbox_ttl_seconds: float = INBOX_TTL_SECONDS,
        sweep_seconds: float = 600.0,
        fetch_max_wait_ms: int = 20,
        batch_timeout_ms: int = 10,
        max_records: int = 100,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._retry = RetryPolicy(max_attempts, tuple(backoff), permanent_errors)
        self._inbox = Inbox(inbox, ttl_seconds=inbox_ttl_seconds)
        self.service_name = service_name
        self._broker = broker
        self._sweep_seconds = sweep_seconds
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._batch_timeout_ms = batch_timeout_ms
        self._max_records = max_records
        self._metrics = consumer_metrics(registry)
        self._dead_letters = DeadLetters(service_name, broker, self._metrics)
        self._tracer = trace.get_tracer("hearth_kit.messaging", tracer_provider=tracer_provider)
        self._routes: dict[str, _Route] = {}
        self._subscriber: Any = None
        self._sweeper: asyncio.Task[None] | None = None
        self._sweeper_wanted = True  # until start() or stop() decides

    # ---- registration -------------------------------------------------------------------
    def handle(self, model: type[D]) -> Callable[[Handler[D]], Handler[D]]:
        """Register the handler of one event type (one handler per type)."""
        if self._subscriber is not None:
            raise RuntimeError("register handlers before subscribe()")
        event_type = model.TYPE
        if event_type in self._routes:
            raise ValueError(f"{event_type} already has a handler in {self.service_name}")
        topic = topic_for(event_type)

        def register(handler: Handler[D]) -> Handler[D]:
            self._routes[event_type] = _Route(model=model, handler=handler, topic=topic)
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({route.topic for route in self._routes.values()})

    def subscribe(self) -> Any:
        """Declare the one FastStream subscriber of this service's group; returns it."""
        if self._subscriber is not None:
            return self._subscriber
        if not self._routes:
            raise RuntimeError("no handlers registered")
        names = ", ".join(sorted(self._routes))
        subscriber = self._broker.subscriber(
            *self.topics,
            batch=True,
            group_id=self.service_name,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            batch_timeout_ms=self._batch_timeout_ms,
            max_records=self._max_records,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=lenient_parser,
            decoder=raw_bodies,
            title=f"{self.service_name}:events",
            description=f"Hearth envelopes consumed by {self.service_name}: {names}",
        )
        consumer = self

        async def on_events(message: KafkaMessage) -> None:
            records = message.raw_message
            batch = tuple(records) if isinstance(records, (tuple, list)) else (records,)
            await consumer.process(batch)
            observe_consumer_lag(consumer._metrics, message.consumer, batch)

        subscriber(on_events)
        self._subscriber = subscriber
        return subscriber

    # ---- lifecycle (inbox sweeper) ------------------------------------------------------
    async def start(self) -> None:
        """Start the inbox sweeper (the first batch starts it too, if nobody did)."""
        self._sweeper_wanted = False
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(
                self._sweep_forever(), name=f"inbox-sweeper:{self.service_name}"
            )

    async def stop(self) -> None:
        self._sweeper_wanted = False
        task, self._sweeper = self._sweeper, None
        await cancel_and_wait(task)

    async def sweep(self) -> int:
        """Delete expired inbox entries now; returns how many."""
        return await self._inbox.sweep()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                removed = await self.sweep()
                if removed:
                    logger.info("inbox sweeper removed %d expired entries", removed)
            except Exception:
                logger.exception("inbox sweep failed")
            await asyncio.sleep(self._sweep_seconds)

    # ---- processing ---------------------------------------------------------------------
    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Handle a batch: partitions concurrently, each partition's records in order.

        Raises (so the batch is delivered again) only if the inbox or a dead-letter topic
        could not be written; handler failures never escape.
        """
        if self._sweeper_wanted:
            await self.start()
        by_partition: dict[tuple[str, int], list[ConsumerRecord[Any, Any]]] = {}
        for record in records:
            by_partition.setdefault((record.topic, record.partition), []).append(record)
        results = await asyncio.gather(
            *(self._process_partition(part) for part in by_partition.values()),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            for failure in failures:
                if isinstance(failure, asyncio.CancelledError):
                    raise failure
            logger.error(
                "could not record the outcome of %d partition(s); the batch will be "
                "delivered again",
                len(failures),
                exc_info=failures[0],
            )
            await asyncio.sleep(_INFRA_RETRY_SECONDS)
            raise failures[0]

    async def _process_partition(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        for record in records:
            await self._process_record(record)

    async def _process_record(self, record: ConsumerRecord[Any, Any]) -> None:
        topic = record.topic
        try:
            envelope, route, data = self._parse(record)
        except InvalidEvent as invalid:
            if invalid.envelope is not None and await self._inbox.seen(invalid.envelope):
                self._metrics.consumed.labels(topic=topic, outcome="duplicate").inc()
                return
            await self._dead_letters.send(
                record, invalid, attempts=0, reason=invalid.reason, envelope=invalid.envelope
            )
            if invalid.envelope is not None:
                await self._inbox.remember(invalid.envelope, topic, "rejected")
            self._metrics.consumed.labels(topic=topic, outcome="rejected").inc()
            return
        event_id = str(envelope.event_id)
        if await self._inbox.seen(envelope):
            self._metrics.consumed.labels(topic=topic, outcome="duplicate").inc()
            logger.debug("duplicate event %s skipped", event_id)
            return
        headers = h.decode_headers(record.headers)
        parent = extract_context(headers if "traceparent" in headers else envelope.trace)
        with (
            log_context(tenant_id=envelope.tenant_id, event_id=event_id),
            self._tracer.start_as_current_span(
                f"{topic} handle",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": topic,
                    "messaging.message.id": event_id,
                    "messaging.consumer.group.name": self.service_name,
                    "hearth.tenant_id": envelope.tenant_id,
                },
            ) as span,
        ):
            error, attempts = await self._retry.call(
                lambda: route.handler(data, envelope),
                event_type=envelope.type,
                topic=route.topic,
                metrics=self._metrics,
            )
            if error is None:
                await self._inbox.remember(envelope, topic, "handled")
                self._metrics.consumed.labels(topic=topic, outcome="handled").inc()
                return
            span.set_status(Status(StatusCode.ERROR, str(error)))
            reason = "permanent" if self._retry.is_permanent(error) else "handler_failed"
            logger.error(
                "event %s (%s) failed after %d attempt(s) and goes to %s: %s: %s",
                event_id,
                envelope.type,
                attempts,
                dead_letter_topic(topic),
                type(error).__name__,
                error,
                exc_info=error,
            )
            await self._dead_letters.send(
                record, error, attempts=attempts, reason=reason, envelope=envelope
            )
            await self._inbox.remember(envelope, topic, "dead_lettered")
            self._metrics.consumed.labels(topic=topic, outcome="dead_lettered").inc()

    def _parse(self, record: ConsumerRecord[Any, Any]) -> tuple[Envelope, _Route, EventData]:
        try:
            envelope = Envelope.model_validate_json(record.value or b"")
        except ValidationError as exc:
            raise InvalidEvent("invalid_envelope", _short(exc)) from exc
        route = self._routes.get(envelope.type)
        if route is None:
            raise InvalidEvent(
                "unknown_type",
                f"{self.service_name} has no handler for event type {envelope.type!r}",
                envelope,
            )
        if envelope.schema_version != route.model.VERSION:
            raise InvalidEvent(
                "unsupported_version",
                f"{envelope.type} schema version {envelope.schema_version} is not "
                f"{route.model.VERSION}",
                envelope,
            )
        try:
            data = route.model.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent("invalid_payload", _short(exc), envelope) from exc
        return envelope, route, data


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors(include_url=False)[:5]
    )
