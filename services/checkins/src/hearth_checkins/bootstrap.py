"""Wires check-ins together. Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; its lifespan (the kit's service runtime) opens the
store, registers identity's event handlers, and starts the outbox relay, the deadline
scheduler and its auditor. Without messaging (tests), events stay in the outbox."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.adapters.repositories import open_repositories
from hearth_checkins.entrypoints import http
from hearth_checkins.entrypoints.events import register_identity_handlers
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.timers import fire_deadline
from hearth_checkins.settings import CheckinsSettings
from hearth_kit.auth import TokenVerifier
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.messaging import default_owner
from hearth_kit.people.identity import IdentityLookup, identity_lookup
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Document, Store
from hearth_timers import Clock, DeadlineScheduler, SystemClock, TimerAuditor


def create_app(
    settings: CheckinsSettings | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
    registry: CollectorRegistry | None = None,
    identity: IdentityLookup | None = None,
) -> FastAPI:
    """The check-ins app. `store`, `clock`, `verifier`, `registry` and `identity` are for
    tests; by default the store comes from the settings (MongoDB if MONGODB_URL is set,
    else SQLite under the data folder), time is the system's, tokens are checked against
    identity's published keys and identity is asked over HTTP."""
    settings = settings or CheckinsSettings()
    the_clock: Clock = clock or SystemClock()
    runtime = ServiceRuntime(
        settings,
        registry=registry,
        store=store,
        verifier=verifier,
        messaging=settings.messaging_enabled,
    )

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        repos = await open_repositories(rt.collection)
        deps = CheckinsDeps(
            repos=repos,
            clock=the_clock,
            metrics=CheckinsMetrics.create(rt.registry),
            identity=identity_lookup(identity, settings.identity_url, rt),
        )

        async def fire(doc: Document) -> None:
            await fire_deadline(doc, deps=deps)

        scheduler = DeadlineScheduler(
            repos.timer_collection,
            fire,
            owner=default_owner(settings.service_name),
            clock=the_clock,
            registry=rt.registry,
            lease_seconds=settings.timer_lease_seconds,
            lookahead_seconds=settings.timer_lookahead_seconds,
            poll_seconds=settings.timer_poll_seconds,
            batch_size=settings.timer_batch_size,
        )
        deps.wake = scheduler.wake
        if rt.messaging:
            register_identity_handlers(await rt.consumer(), deps)
        rt.add_background(scheduler)
        rt.add_background(
            TimerAuditor(
                [repos.timer_collection],
                registry=rt.registry,
                clock=the_clock,
                interval_seconds=settings.timer_audit_seconds,
                tolerance_seconds=settings.timer_audit_tolerance_seconds,
            )
        )
        app.state.checkins = deps

    app = create_kit_app(
        settings=settings,
        title="Hearth check-ins",
        registry=runtime.registry,
        lifespan=runtime.lifespan(setup),
        readiness=runtime.readiness(),
    )
    app.include_router(http.router)
    return app
