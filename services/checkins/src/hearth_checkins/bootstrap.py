"""Wires check-ins together. Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; its lifespan opens the store, registers identity's
event handlers, and starts the outbox relay, the deadline scheduler and its auditor."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_checkins.adapters.identity_client import HttpUserLookup, UserLookup
from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.adapters.repositories import OpenCollection, open_repositories
from hearth_checkins.entrypoints import http
from hearth_checkins.entrypoints.events import register_identity_handlers
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.timers import fire_deadline
from hearth_checkins.settings import CheckinsSettings
from hearth_kit.auth import HttpJwksSource, TokenVerifier
from hearth_kit.http import ReadinessCheck
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.http.app import Lifespan
from hearth_kit.messaging import default_owner
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Collection, CollectionSpec, Document, Store, open_store
from hearth_timers import Clock, DeadlineScheduler, SystemClock, TimerAuditor


class _Timers:
    """The deadline scheduler and its auditor, started and stopped as one."""

    def __init__(self, scheduler: DeadlineScheduler, auditor: TimerAuditor) -> None:
        self.scheduler = scheduler
        self.auditor = auditor

    async def start(self) -> None:
        await self.scheduler.start()
        await self.auditor.start()

    async def stop(self) -> None:
        await self.auditor.stop()
        await self.scheduler.stop()


async def build(
    app: FastAPI,
    open_collection: OpenCollection,
    *,
    settings: CheckinsSettings,
    clock: Clock,
    registry: CollectorRegistry,
    lookup_user: UserLookup | None,
) -> tuple[CheckinsDeps, _Timers]:
    """Repositories, handler dependencies and timers; sets `app.state.checkins`."""
    repos = await open_repositories(open_collection)
    deps = CheckinsDeps(
        repos=repos,
        clock=clock,
        metrics=CheckinsMetrics.create(registry),
        lookup_user=lookup_user,
    )

    async def fire(doc: Document) -> None:
        await fire_deadline(doc, deps=deps)

    scheduler = DeadlineScheduler(
        repos.timer_collection,
        fire,
        owner=default_owner(settings.service_name),
        clock=clock,
        registry=registry,
        lease_seconds=settings.timer_lease_seconds,
        lookahead_seconds=settings.timer_lookahead_seconds,
        poll_seconds=settings.timer_poll_seconds,
        batch_size=settings.timer_batch_size,
    )
    auditor = TimerAuditor(
        [repos.timer_collection],
        registry=registry,
        clock=clock,
        interval_seconds=settings.timer_audit_seconds,
        tolerance_seconds=settings.timer_audit_tolerance_seconds,
    )
    deps.wake = scheduler.wake
    app.state.checkins = deps
    return deps, _Timers(scheduler, auditor)


def create_app(
    settings: CheckinsSettings | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
    registry: CollectorRegistry | None = None,
    lookup_user: UserLookup | None = None,
) -> FastAPI:
    """The check-ins app. `store`, `clock`, `verifier` and `lookup_user` are for tests; by
    default the store comes from the settings (MongoDB if MONGODB_URL is set, else SQLite
    under the data folder), time is the system's and tokens are checked against identity's
    published keys."""
    settings = settings or CheckinsSettings()
    clock = clock or SystemClock()
    http_lookup = HttpUserLookup(settings.identity_url) if lookup_user is None else None
    lookup: UserLookup | None = lookup_user or http_lookup

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
                clock=clock,
                registry=rt.registry,
                lookup_user=lookup,
            )
            register_identity_handlers(await rt.consumer(), deps)
            rt.add_background(timers)
            if http_lookup is not None:
                rt.add_background(http_lookup)

        lifespan = runtime.lifespan(setup)
        readiness: list[ReadinessCheck] = runtime.readiness()
    else:
        registry = registry or CollectorRegistry()
        lifespan, readiness = _without_messaging(
            settings,
            store=store,
            clock=clock,
            verifier=verifier,
            registry=registry,
            lookup=lookup,
        )

    app = create_kit_app(
        settings=settings,
        title="Hearth check-ins",
        registry=registry,
        lifespan=lifespan,
        readiness=readiness,
    )
    app.include_router(http.router)
    built: FastAPI = app
    return built


def _without_messaging(
    settings: CheckinsSettings,
    *,
    store: Store | None,
    clock: Clock,
    verifier: TokenVerifier | None,
    registry: CollectorRegistry,
    lookup: UserLookup | None,
) -> tuple[Lifespan, list[ReadinessCheck]]:
    """Store and timers only: events stay in the outbox (tests that need no broker)."""
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
            lookup_user=lookup,
        )
        await timers.start()
        try:
            yield
        finally:
            await timers.stop()
            if isinstance(lookup, HttpUserLookup):
                await lookup.stop()
            if jwks is not None:
                await jwks.aclose()
            if store is None:
                await used.close()

    async def store_ready() -> None:
        await opened[-1].ping()

    return lifespan, [("store", store_ready)]
