"""The runtime every Hearth service process shares: store, broker, outbox relay, event
consumer, token verifier, metrics and tracing, started and stopped in the right order.

A service's bootstrap builds one `ServiceRuntime`, opens its collections and registers
its event handlers in a `setup` callback, and hands `runtime.lifespan(setup)` and
`runtime.readiness()` to `hearth_kit.http.create_app`.

With messaging, every replica also tails identity's ended sign-ins and refuses their
access tokens (`hearth_kit.auth.revocations`).

`messaging=False` runs the same service without Kafka (tests that need no broker): no
broker, consumer or relay; events saved with state stay in the outbox, where tests read
them; the store, the token verifier and background work run as usual.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_kit.auth import HttpJwksSource, TokenVerifier
from hearth_kit.auth.revocations import SessionRevocations
from hearth_kit.http.app import Lifespan, ReadinessCheck
from hearth_kit.messaging import EventConsumer, OutboxRelay, inbox_spec, make_broker
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.factory import open_store
from hearth_kit.store.port import Collection, CollectionSpec, Store
from hearth_kit.tracing import make_tracer_provider

log = logging.getLogger("hearth.service")

_BROKER_PING_TIMEOUT = 1.0


class Background(Protocol):
    """Work a service runs beside HTTP and Kafka (e.g. a deadline scheduler)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Setup = Callable[["ServiceRuntime", FastAPI], Awaitable[None]]


class _OnStop:
    def __init__(self, step: Callable[[], Awaitable[None] | None]) -> None:
        self._step = step

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        result = self._step()
        if inspect.isawaitable(result):
            await result


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        registry: CollectorRegistry | None = None,
        store: Store | None = None,
        verifier: TokenVerifier | None = None,
        messaging: bool = True,
    ) -> None:
        self.settings = settings
        self.messaging = messaging
        self.registry = registry or CollectorRegistry()
        self.tracer_provider = make_tracer_provider(settings)
        self._broker = (
            make_broker(settings, registry=self.registry, tracer_provider=self.tracer_provider)
            if messaging
            else None
        )
        self._jwks: HttpJwksSource | None = None
        if verifier is None:
            self._jwks = HttpJwksSource(settings.jwks_url)
            verifier = TokenVerifier(self._jwks, issuer=settings.token_issuer)
        self.verifier = verifier
        self._store = store
        # A store handed in belongs to the caller, who closes it.
        self._owns_store = store is None
        self._outbox_collections: list[Collection] = []
        self._consumer: EventConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._background: list[Background] = []
        self._started: list[Callable[[], Awaitable[None]]] = []
        # First of the background work, so ended sign-ins are refused before anything
        # else runs; a verifier that is not a TokenVerifier (a test's fake) is left be.
        self.revocations: SessionRevocations | None = None
        if messaging and isinstance(verifier, TokenVerifier):
            self.revocations = SessionRevocations.from_settings(settings, verifier)
            self._background.append(self.revocations)

    # ---- wiring (inside setup) ----------------------------------------------------------
    @property
    def broker(self) -> KafkaBroker:
        if self._broker is None:
            raise RuntimeError("this runtime runs without messaging")
        return self._broker

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store opens when the runtime starts")
        return self._store

    async def collection(self, spec: CollectionSpec, *, outbox: bool = True) -> Collection:
        """Open a collection; with `outbox`, the relay publishes the events saved in it."""
        collection = await self.store.collection(spec)
        if outbox:
            self._outbox_collections.append(collection)
        return collection

    async def consumer(self) -> EventConsumer:
        """This service's one event consumer (one consumer group over all its topics);
        only with messaging (check `runtime.messaging`)."""
        if self._consumer is None:
            inbox = await self.store.collection(inbox_spec(self.settings.service_name))
            self._consumer = EventConsumer(
                self.settings.service_name,
                self.broker,
                inbox,
                registry=self.registry,
                fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
                tracer_provider=self.tracer_provider,
            )
        return self._consumer

    def add_background(self, worker: Background) -> None:
        """Started after messaging, in the order added; stopped in reverse, first."""
        self._background.append(worker)

    def add_shutdown(self, step: Callable[[], Awaitable[None] | None]) -> None:
        """Something to do only when stopping, placed in the background work's reverse
        order like a worker added here (e.g. added last, it runs first)."""
        self._background.append(_OnStop(step))

    # ---- lifecycle ----------------------------------------------------------------------
    async def open(self) -> None:
        if self._store is None:
            self._store = await open_store(self.settings)

    async def start(self) -> None:
        """With messaging: subscribe, connect and start relaying. Then background work."""
        if self.messaging:
            await self._start_messaging()
        for worker in self._background:
            await worker.start()
            self._started.append(worker.stop)

    async def _start_messaging(self) -> None:
        if self._consumer is not None:
            self._consumer.subscribe()
        await self.broker.start()
        self._started.append(self.broker.stop)
        if self._consumer is not None:
            await self._consumer.start()
            self._started.append(self._consumer.stop)
        if self._outbox_collections:
            self._relay = OutboxRelay.from_settings(
                self.settings,
                self._outbox_collections,
                self.broker,
                registry=self.registry,
                store=self._store,
            )
            await self._relay.start()
            self._started.append(self._relay.stop)

    async def stop(self) -> None:
        """Stop in reverse order: background work, relay (drains its batch), consumer,
        broker (commits offsets), then the store. Every step runs even if one fails."""
        while self._started:
            step = self._started.pop()
            try:
                await step()
            except Exception:
                log.exception("error while stopping %s", getattr(step, "__qualname__", step))
        if self._store is not None and self._owns_store:
            await self._store.close()
        if self._jwks is not None:
            await self._jwks.aclose()
        self.tracer_provider.shutdown()

    def lifespan(self, setup: Setup) -> Lifespan:
        @contextlib.asynccontextmanager
        async def run(app: FastAPI) -> AsyncIterator[None]:
            app.state.token_verifier = self.verifier
            app.state.runtime = self
            await self.open()
            try:
                await setup(self, app)
                await self.start()
                log.info(
                    "started",
                    extra={
                        "fields": {
                            "store": self.store.describe(),
                            "broker": self.settings.kafka_bootstrap_servers
                            if self.messaging
                            else "none (messaging off)",
                        }
                    },
                )
                yield
            finally:
                await self.stop()

        return run

    def readiness(self) -> list[ReadinessCheck]:
        async def store_ready() -> None:
            await self.store.ping()

        async def broker_ready() -> None:
            if not await self.broker.ping(timeout=_BROKER_PING_TIMEOUT):
                raise ConnectionError(f"Kafka at {self.settings.kafka_bootstrap_servers}")

        if not self.messaging:
            return [("store", store_ready)]
        return [("store", store_ready), ("broker", broker_ready)]
