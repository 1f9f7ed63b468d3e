"""Event subscribers: identity's events, through the service's one consumer group."""

from __future__ import annotations

from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.identity_events import on_tenant_created, people_events
from hearth_contracts import Envelope
from hearth_contracts.identity import TenantCreated
from hearth_kit.messaging import EventConsumer


def register_identity_handlers(consumer: EventConsumer, deps: CheckinsDeps) -> None:
    people_events(deps).register(consumer)

    @consumer.handle(TenantCreated)
    async def tenant_created(data: TenantCreated, envelope: Envelope) -> None:
        await on_tenant_created(data, envelope, deps=deps)
