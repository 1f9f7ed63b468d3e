"""Wires the alerts service. Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; its lifespan (the kit's service runtime) opens the
store, registers the event handlers (identity's people among them), connects to Kafka,
and starts the outbox relay, the deadline schedulers of escalation steps and notification
retries, and the live stream."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_alerts.adapters.repositories import open_repositories
from hearth_alerts.adapters.stream import stream_feed
from hearth_alerts.channels import (
    Channels,
    ConsoleStreamChannel,
    SmsHttpChannel,
    SmtpEmailChannel,
    WebhookChannel,
)
from hearth_alerts.channels.console import StreamHub
from hearth_alerts.domain.notification import RetryPolicy
from hearth_alerts.entrypoints import events, http_alerts, http_oncall
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.escalation import on_escalation_due, on_notification_due
from hearth_alerts.metrics import alert_metrics
from hearth_alerts.settings import AlertsSettings
from hearth_kit.auth import TokenVerifier
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.messaging import default_owner
from hearth_kit.people.identity import IdentityLookup, identity_lookup
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Document, Store
from hearth_timers import Clock, DeadlineScheduler, SystemClock, TimerAuditor

log = logging.getLogger("hearth.alerts")


def build_channels(settings: AlertsSettings, hub: StreamHub) -> Channels:
    sms_key = settings.sms_api_key.get_secret_value() if settings.sms_api_key else None
    smtp_password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Channels(
        {
            "webhook": WebhookChannel(timeout=settings.webhook_timeout),
            "email": SmtpEmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username,
                password=smtp_password,
                starttls=settings.smtp_starttls,
                timeout=settings.smtp_timeout,
            ),
            "sms": SmsHttpChannel(
                provider_url=settings.sms_provider_url,
                api_key=sms_key,
                api_key_header=settings.sms_api_key_header,
                timeout=settings.sms_timeout,
            ),
            "console": ConsoleStreamChannel(hub),
        }
    )


def create_app(
    settings: AlertsSettings | None = None,
    *,
    store: Store | None = None,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    identity: IdentityLookup | None = None,
) -> FastAPI:
    """The alerts app. `store`, `verifier`, `clock`, `registry` and `identity` are for
    tests; by default they come from the settings, and identity is asked over HTTP."""
    settings = settings or AlertsSettings()
    runtime = ServiceRuntime(settings, registry=registry, store=store, verifier=verifier)
    hub = StreamHub(settings.stream_queue_size)
    the_clock: Clock = clock or SystemClock()

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        repos = await open_repositories(rt.store, rt.collection)
        deps = AlertsDeps(
            repos=repos,
            channels=build_channels(settings, hub),
            metrics=alert_metrics(rt.registry),
            clock=the_clock,
            retry=RetryPolicy(
                max_attempts=settings.notification_max_attempts,
                base_seconds=settings.notification_backoff_seconds,
                max_seconds=settings.notification_backoff_max_seconds,
            ),
            escalation_lease_seconds=settings.escalation_lease_seconds,
            attempt_lease_seconds=settings.notification_attempt_lease_seconds,
            allow_private_webhooks=settings.private_webhooks_allowed(),
            identity=identity_lookup(identity, settings.identity_url, rt),
        )

        async def fire_escalation(doc: Document) -> None:
            await on_escalation_due(doc, deps=deps)

        async def fire_notification(doc: Document) -> None:
            await on_notification_due(doc, deps=deps)

        owner = default_owner(settings.service_name)
        escalations = DeadlineScheduler(
            repos.alerts.collection,
            fire_escalation,
            owner=f"{owner}:escalations",
            clock=the_clock,
            registry=rt.registry,
            lease_seconds=settings.escalation_lease_seconds,
        )
        retries = DeadlineScheduler(
            repos.notifications.collection,
            fire_notification,
            owner=f"{owner}:notifications",
            clock=the_clock,
            registry=rt.registry,
            lease_seconds=settings.notification_attempt_lease_seconds,
        )
        deps.wake_escalations = escalations.wake
        deps.wake_notifications = retries.wake
        events.register(await rt.consumer(), deps)

        async def finish_deliveries() -> None:
            # Lets first delivery attempts in flight finish, then closes the channels.
            await deps.background.drain()
            await deps.channels.aclose()

        # Stopped in reverse order: the stream first, deliveries in flight last.
        rt.add_shutdown(finish_deliveries)
        rt.add_background(escalations)
        rt.add_background(retries)
        rt.add_background(
            TimerAuditor(
                [repos.alerts.collection, repos.notifications.collection],
                registry=rt.registry,
                clock=the_clock,
            )
        )
        rt.add_shutdown(hub.close_all)
        rt.add_background(
            stream_feed(
                settings.kafka_bootstrap_servers,
                hub,
                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            )
        )
        app.state.alerts = deps
        app.state.repos = repos

    app = create_kit_app(
        settings=settings,
        title="Hearth alerts",
        registry=runtime.registry,
        lifespan=runtime.lifespan(setup),
        readiness=runtime.readiness(),
    )
    app.state.hub = hub
    app.include_router(http_alerts.router)
    app.include_router(http_oncall.router)
    return app
