"""Wires chat together. Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; its lifespan (the kit's service runtime) opens the
store, registers identity's event handlers, connects to Kafka, and starts the outbox
relay, the unanswered-support timer and its auditor, and the replica feed that delivers
other replicas' messages to this replica's sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_chat.adapters.feed import ReplicaFeed
from hearth_chat.adapters.hub import Hub
from hearth_chat.adapters.identity_client import HttpIdentityLookup, IdentityLookup
from hearth_chat.adapters.metrics import ChatMetrics
from hearth_chat.adapters.repositories import OpenCollection, open_repositories
from hearth_chat.adapters.scanners import ScannerCache
from hearth_chat.entrypoints import http_conversations, http_safeguarding, http_support, websocket
from hearth_chat.entrypoints.events import register_identity_handlers
from hearth_chat.entrypoints.ws_connection import SocketLimits
from hearth_chat.handlers.context import ChatDeps, Limits
from hearth_chat.handlers.support import fire_unanswered
from hearth_chat.settings import ChatSettings
from hearth_contracts import new_envelope, topic_for
from hearth_contracts.chat import TypingStarted
from hearth_kit.auth import HttpJwksSource, TokenVerifier
from hearth_kit.http import ReadinessCheck
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.http.app import Lifespan
from hearth_kit.messaging import default_owner, enqueue_envelope
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Collection, CollectionSpec, Document, Store, open_store
from hearth_timers import Clock, DeadlineScheduler, SystemClock, TimerAuditor


class _Timers:
    """The unanswered-support scheduler and its auditor, started and stopped as one."""

    def __init__(self, scheduler: DeadlineScheduler, auditor: TimerAuditor) -> None:
        self.scheduler = scheduler
        self.auditor = auditor

    async def start(self) -> None:
        await self.scheduler.start()
        await self.auditor.start()

    async def stop(self) -> None:
        await self.auditor.stop()
        await self.scheduler.stop()


class _Sockets:
    """Closes this replica's sockets first on shutdown (clients reconnect elsewhere)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.hub.close_all()


def _typing_publisher(broker: KafkaBroker, settings: ChatSettings):  # type: ignore[no-untyped-def]
    topic = topic_for(TypingStarted.TYPE)

    async def publish(tenant_id: str, conversation_id: str, user_id: str) -> None:
        envelope = new_envelope(
            TypingStarted(conversation_id=conversation_id, user_id=user_id),
            tenant_id=tenant_id,
            subject=conversation_id,
            producer=settings.service_name,
        )
        # Not awaited to the broker's acknowledgement: a lost typing hint matters to nobody.
        await enqueue_envelope(broker, envelope, topic=topic)

    return publish


async def build(
    app: FastAPI,
    open_collection: OpenCollection,
    *,
    settings: ChatSettings,
    clock: Clock,
    registry: CollectorRegistry,
    identity: IdentityLookup | None,
    hub: Hub,
) -> tuple[ChatDeps, _Timers]:
    """Repositories, handler dependencies and timers; sets `app.state.chat`."""
    repos = await open_repositories(open_collection)
    deps = ChatDeps(
        repos=repos,
        clock=clock,
        metrics=ChatMetrics.create(registry),
        scanners=ScannerCache(repos.settings, refresh_seconds=settings.phrases_refresh_seconds),
        hub=hub,
        limits=Limits(
            max_message_chars=settings.max_message_chars,
            edit_window_seconds=settings.edit_window_seconds,
            support_target_seconds=settings.support_target_seconds,
        ),
        identity=identity,
    )

    async def local_typing(tenant_id: str, conversation_id: str, user_id: str) -> None:
        hub.typing(tenant_id, conversation_id, user_id)

    deps.publish_typing = local_typing

    async def fire(doc: Document) -> None:
        await fire_unanswered(doc, deps=deps)

    timers = repos.support.collection
    scheduler = DeadlineScheduler(
        timers,
        fire,
        owner=default_owner(settings.service_name),
        clock=clock,
        registry=registry,
        lease_seconds=settings.timer_lease_seconds,
        lookahead_seconds=settings.timer_lookahead_seconds,
        poll_seconds=settings.timer_poll_seconds,
    )
    auditor = TimerAuditor(
        [timers],
        registry=registry,
        clock=clock,
        interval_seconds=settings.timer_audit_seconds,
        tolerance_seconds=settings.timer_audit_tolerance_seconds,
    )
    deps.wake = scheduler.wake
    app.state.chat = deps
    return deps, _Timers(scheduler, auditor)


def socket_limits(settings: ChatSettings) -> SocketLimits:
    return SocketLimits(
        max_frame_bytes=settings.ws_max_frame_bytes,
        frames_per_second=settings.ws_frames_per_second,
        frame_burst=settings.ws_frame_burst,
        send_queue=settings.ws_send_queue,
        max_subscriptions=settings.ws_max_subscriptions,
        max_bad_frames=settings.ws_max_bad_frames,
    )


def create_app(
    settings: ChatSettings | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
    registry: CollectorRegistry | None = None,
    identity: IdentityLookup | None = None,
) -> FastAPI:
    """The chat app. `store`, `clock`, `verifier`, `registry` and `identity` are for
    tests; by default the store comes from the settings (MongoDB if MONGODB_URL is set,
    else SQLite under the data folder), time is the system's, tokens are checked against
    identity's published keys and identity is asked over HTTP."""
    settings = settings or ChatSettings()
    the_clock: Clock = clock or SystemClock()
    http_identity = HttpIdentityLookup(settings.identity_url) if identity is None else None
    lookup: IdentityLookup | None = identity or http_identity
    hub = Hub()

    if settings.messaging_enabled:
        runtime = ServiceRuntime(settings, registry=registry, store=store, verifier=verifier)
        registry = runtime.registry

        async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
            async def open_collection(spec: CollectionSpec, outbox: bool) -> Collection:
                return await rt.collection(spec, outbox=outbox)

            deps, timers = await build(
                app,
                open_collection,
                settings=settings,
                clock=the_clock,
                registry=rt.registry,
                identity=lookup,
                hub=hub,
            )
            deps.publish_typing = _typing_publisher(rt.broker, settings)
            register_identity_handlers(await rt.consumer(), deps)
            rt.add_background(
                ReplicaFeed(
                    settings.kafka_bootstrap_servers,
                    hub,
                    fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                    metadata_max_age_ms=settings.feed_metadata_max_age_ms,
                )
            )
            rt.add_background(timers)
            if http_identity is not None:
                rt.add_background(http_identity)
            # Started last, so stopped first: sockets close before the rest goes away.
            rt.add_background(_Sockets(hub))

        lifespan = runtime.lifespan(setup)
        readiness: list[ReadinessCheck] = runtime.readiness()
    else:
        registry = registry or CollectorRegistry()
        lifespan, readiness = _without_messaging(
            settings,
            store=store,
            clock=the_clock,
            verifier=verifier,
            registry=registry,
            identity=lookup,
            hub=hub,
        )

    app = create_kit_app(
        settings=settings,
        title="Hearth chat",
        registry=registry,
        lifespan=lifespan,
        readiness=readiness,
    )
    app.state.hub = hub
    app.state.socket_limits = socket_limits(settings)
    app.include_router(http_conversations.router)
    app.include_router(http_support.router)
    app.include_router(http_safeguarding.router)
    app.include_router(websocket.router)
    built: FastAPI = app
    return built


def _without_messaging(
    settings: ChatSettings,
    *,
    store: Store | None,
    clock: Clock,
    verifier: TokenVerifier | None,
    registry: CollectorRegistry,
    identity: IdentityLookup | None,
    hub: Hub,
) -> tuple[Lifespan, list[ReadinessCheck]]:
    """Store, timers and this process's sockets only: events stay in the outbox (tests
    that need no broker)."""
    opened: list[Store] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        used = store or await open_store(settings)
        opened.append(used)
        jwks: HttpJwksSource | None = None
        if verifier is None:
            jwks = HttpJwksSource(settings.jwks_url)
            app.state.token_verifier = TokenVerifier(jwks, issuer=settings.token_issuer)
        else:
            app.state.token_verifier = verifier

        async def open_collection(spec: CollectionSpec, outbox: bool) -> Collection:
            return await used.collection(spec)

        _, timers = await build(
            app,
            open_collection,
            settings=settings,
            clock=clock,
            registry=registry,
            identity=identity,
            hub=hub,
        )
        await timers.start()
        try:
            yield
        finally:
            hub.close_all()
            await timers.stop()
            if isinstance(identity, HttpIdentityLookup):
                await identity.stop()
            if jwks is not None:
                await jwks.aclose()
            if store is None:
                await used.close()

    async def store_ready() -> None:
        await opened[-1].ping()

    return lifespan, [("store", store_ready)]
