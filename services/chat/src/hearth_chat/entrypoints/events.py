"""Event subscribers: identity's events, through the service's one consumer group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hearth_chat.handlers import identity_events as h
from hearth_chat.handlers.context import ChatDeps
from hearth_contracts import Envelope
from hearth_contracts.identity import (
    CircleMemberAdded,
    CircleMemberRemoved,
    UserDeactivated,
    UserErasureRequested,
    UserRegistered,
    UserRoleChanged,
)
from hearth_kit.messaging import EventConsumer

_HANDLERS: list[tuple[type[Any], Callable[..., Awaitable[None]]]] = [
    (UserRegistered, h.on_user_registered),
    (UserRoleChanged, h.on_role_changed),
    (UserDeactivated, h.on_user_deactivated),
    (UserErasureRequested, h.on_erasure_requested),
    (CircleMemberAdded, h.on_circle_member_added),
    (CircleMemberRemoved, h.on_circle_member_removed),
]


def register_identity_handlers(consumer: EventConsumer, deps: ChatDeps) -> None:
    for model, handler in _HANDLERS:

        def bind(
            handler: Callable[..., Awaitable[None]],
        ) -> Callable[[Any, Envelope], Awaitable[None]]:
            async def handle(data: Any, envelope: Envelope) -> None:
                await handler(data, envelope, deps=deps)

            return handle

        consumer.handle(model)(bind(handler))
