"""Kafka entry points: the events alerts consumes, all behind the service's one consumer
group (the kit's EventConsumer: inbox, retries, dead letters)."""

from __future__ import annotations

from hearth_alerts.handlers import raising
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.identity_events import people_events
from hearth_contracts import Envelope
from hearth_contracts.chat import MessageFlagged, SupportUnanswered
from hearth_contracts.checkins import CheckInMissed, CheckInRecovered, HelpRequested
from hearth_kit.messaging import EventConsumer


def register(consumer: EventConsumer, deps: AlertsDeps) -> None:
    @consumer.handle(CheckInMissed)
    async def checkin_missed(data: CheckInMissed, envelope: Envelope) -> None:
        await raising.on_checkin_missed(data, envelope, deps=deps)

    @consumer.handle(HelpRequested)
    async def help_requested(data: HelpRequested, envelope: Envelope) -> None:
        await raising.on_help_requested(data, envelope, deps=deps)

    @consumer.handle(CheckInRecovered)
    async def checkin_recovered(data: CheckInRecovered, envelope: Envelope) -> None:
        await raising.on_checkin_recovered(data, envelope, deps=deps)

    @consumer.handle(MessageFlagged)
    async def message_flagged(data: MessageFlagged, envelope: Envelope) -> None:
        await raising.on_message_flagged(data, envelope, deps=deps)

    @consumer.handle(SupportUnanswered)
    async def support_unanswered(data: SupportUnanswered, envelope: Envelope) -> None:
        await raising.on_support_unanswered(data, envelope, deps=deps)

    # Identity's events about people and circles of support.
    people_events(deps).register(consumer)
