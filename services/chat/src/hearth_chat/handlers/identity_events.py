"""What chat does with identity's events: keep its view of people and circles, and
erase a person's words when identity asks."""

from __future__ import annotations

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
from hearth_kit.store import ConcurrencyConflict

ERASE_PAGE = 200


async def on_user_registered(data: UserRegistered, envelope: Envelope, *, deps: ChatDeps) -> None:
    await deps.repos.directory.remember_person(
        envelope.tenant_id, data.user_id, role=data.role, active=True
    )


async def on_role_changed(data: UserRoleChanged, envelope: Envelope, *, deps: ChatDeps) -> None:
    await deps.repos.directory.remember_person(envelope.tenant_id, data.user_id, role=data.new_role)


async def on_user_deactivated(data: UserDeactivated, envelope: Envelope, *, deps: ChatDeps) -> None:
    """A deactivated person reaches nobody any more (their sockets are closed by every
    replica's feed)."""
    tenant = envelope.tenant_id
    await deps.repos.directory.remember_person(tenant, data.user_id, active=False)
    await deps.repos.directory.remove_member_everywhere(tenant, data.user_id)


async def on_erasure_requested(
    data: UserErasureRequested, envelope: Envelope, *, deps: ChatDeps
) -> None:
    """Erase what the person wrote (text and edit history); ids and times stay so the
    conversations others took part in still read in order."""
    tenant = envelope.tenant_id
    cursor: str | None = None
    while True:
        page, cursor = await deps.repos.messages.by_author(
            tenant, data.user_id, limit=ERASE_PAGE, cursor=cursor
        )
        for message, version in page:
            for _ in range(5):
                try:
                    await deps.repos.messages.save(message.erased(), version=version)
                    break
                except ConcurrencyConflict:
                    loaded = await deps.repos.messages.get(tenant, message.id)
                    if loaded is None:
                        break
                    message, version = loaded
        if cursor is None:
            break
    await deps.repos.memberships.erase_user(tenant, data.user_id)
    await deps.repos.directory.forget_person(tenant, data.user_id)


async def on_circle_member_added(
    data: CircleMemberAdded, envelope: Envelope, *, deps: ChatDeps
) -> None:
    await deps.repos.directory.add_to_circle(
        envelope.tenant_id, data.resident_id, data.member_id, data.relationship
    )


async def on_circle_member_removed(
    data: CircleMemberRemoved, envelope: Envelope, *, deps: ChatDeps
) -> None:
    await deps.repos.directory.remove_from_circle(
        envelope.tenant_id, data.resident_id, data.member_id
    )
