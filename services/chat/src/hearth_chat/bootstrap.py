"""Wires chat together. Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; its lifespan (the kit's service runtime) opens the
store, registers identity's event handlers, connects to Kafka, and starts the outbox
relay, the unanswered-support timer and its auditor, and the replica feed that delivers
other replicas' messages to this replica's sockets. Without messaging (tests), sockets
are served by this process alone and events stay in the outbox."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_chat.adapters.feed import ReplicaFeed
from hearth_chat.adapters.hub import Hub
from hearth_chat.adapters.metrics import ChatMetrics
from hearth_chat.adapters.repositories import open_repositories
from hearth_chat.adapters.revocations import Revocations
from hearth_chat.adapters.scanners import ScannerCache
from hearth_chat.entrypoints import http_conversations, http_safeguarding, http_support, websocket
from hearth_chat.entrypoints.ws_connection import SocketLimits
from hearth_chat.handlers.context import ChatDeps, Limits
from hearth_chat.handlers.identity_events import people_events
from hearth_chat.handlers.support import fire_unanswered
from hearth_chat.settings import ChatSettings
from hearth_contracts import new_envelope, topic_for
from hearth_contracts.chat import TypingStarted
from hearth_kit.auth import TokenVerifier
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.messaging import default_owner, enqueue_envelope
from hearth_kit.people.identity import IdentityLookup, identity_lookup
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Document, Store
from hearth_timers import Clock, DeadlineScheduler, SystemClock, TimerAuditor

PublishTyping = Callable[[str, str, str], Awaitable[None]]


def _typing_publisher(broker: KafkaBroker, settings: ChatSettings) -> PublishTyping:
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
    hub = Hub(Revocations(keep_seconds=settings.access_revocation_seconds))
    runtime = ServiceRuntime(
        settings,
        registry=registry,
        store=store,
        verifier=verifier,
        messaging=settings.messaging_enabled,
    )

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        repos = await open_repositories(rt.collection)
        deps = ChatDeps(
            repos=repos,
            clock=the_clock,
            metrics=ChatMetrics.create(rt.registry),
            scanners=ScannerCache(repos.settings, refresh_seconds=settings.phrases_refresh_seconds),
            hub=hub,
            limits=Limits(
                max_message_chars=settings.max_message_chars,
                edit_window_seconds=settings.edit_window_seconds,
                support_target_seconds=settings.support_target_seconds,
            ),
            identity=identity_lookup(identity, settings.identity_url, rt),
        )

        async def fire(doc: Document) -> None:
            await fire_unanswered(doc, deps=deps)

        timers = repos.support.collection
        scheduler = DeadlineScheduler(
            timers,
            fire,
            owner=default_owner(settings.service_name),
            clock=the_clock,
            registry=rt.registry,
            lease_seconds=settings.timer_lease_seconds,
            lookahead_seconds=settings.timer_lookahead_seconds,
            poll_seconds=settings.timer_poll_seconds,
        )
        deps.wake = scheduler.wake
        if rt.messaging:
            deps.publish_typing = _typing_publisher(rt.broker, settings)
            people_events(deps).register(await rt.consumer())
            rt.add_background(
                ReplicaFeed(
                    settings.kafka_bootstrap_servers,
                    hub,
                    repos.directory,
                    fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                    metadata_max_age_ms=settings.feed_metadata_max_age_ms,
                    session_ended=_refuse_session(rt.verifier, settings),
                )
            )
        else:
            deps.publish_typing = _local_typing(hub)
        rt.add_background(scheduler)
        rt.add_background(
            TimerAuditor(
                [timers],
                registry=rt.registry,
                clock=the_clock,
                interval_seconds=settings.timer_audit_seconds,
                tolerance_seconds=settings.timer_audit_tolerance_seconds,
            )
        )
        # Added last, so done first: sockets close before the rest goes away.
        rt.add_shutdown(hub.close_all)
        app.state.chat = deps

    app = create_kit_app(
        settings=settings,
        title="Hearth chat",
        registry=runtime.registry,
        lifespan=runtime.lifespan(setup),
        readiness=runtime.readiness(),
    )
    app.state.hub = hub
    app.state.socket_limits = socket_limits(settings)
    app.include_router(http_conversations.router)
    app.include_router(http_support.router)
    app.include_router(http_safeguarding.router)
    app.include_router(websocket.router)
    return app


def _refuse_session(verifier: TokenVerifier, settings: ChatSettings) -> Callable[[str], None]:
    """Refuse an ended sign-in's tokens for as long as any of them can still be valid."""

    def ended(session_id: str) -> None:
        verifier.revoke_session(session_id, time.time() + settings.access_revocation_seconds)

    return ended


def _local_typing(hub: Hub) -> PublishTyping:
    """Without Kafka, typing hints reach this process's sockets only."""

    async def publish(tenant_id: str, conversation_id: str, user_id: str) -> None:
        hub.typing(tenant_id, conversation_id, user_id)

    return publish
