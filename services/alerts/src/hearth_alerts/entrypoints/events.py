"""Kafka entry points: the events alerts consumes, all behind the service's one consumer
group (the kit's EventConsumer: inbox, retries, dead letters)."""

from __future__ import annotations

from hearth_alerts.handlers import projections, raising
from hearth_alerts.handlers.context import AlertsDeps
from hearth_contracts import Envelope
from hearth_contracts.chat import MessageFlagged, SupportUnanswered
from hearth_contracts.checkins import CheckInMissed, CheckInRecovered, HelpRequested
from hearth_contracts.identity import CircleMemberAdded, CircleMemberRemoved, UserErasureRequested
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

    @consumer.handle(CircleMemberAdded)
    async def circle_member_added(data: CircleMemberAdded, envelope: Envelope) -> None:
        await projections.on_circle_member_added(data, envelope, deps=deps)

    @consumer.handle(CircleMemberRemoved)
    async def circle_member_removed(data: CircleMemberRemoved, envelope: Envelope) -> None:
        await projections.on_circle_member_removed(data, envelope, deps=deps)

    @consumer.handle(UserErasureRequested)
    async def user_erasure_requested(data: UserErasureRequested, envelope: Envelope) -> None:
        await projections.on_user_erasure_requested(data, envelope, deps=deps)
