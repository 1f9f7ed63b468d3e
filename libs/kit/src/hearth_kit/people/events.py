"""Keeping a service's `Directory` in step with identity's events about people and
circles, through the service's one consumer group.

A service adds what it does itself when someone is deactivated (after the directory has
marked them inactive and taken them out of every circle) or erased (before the
directory forgets them, so the person is still known while their data goes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
from hearth_kit.people.directory import Directory

# (tenant_id, user_id)
PersonHook = Callable[[str, str], Awaitable[None]]


async def _nothing(tenant_id: str, user_id: str) -> None:
    return None


class PeopleEvents:
    def __init__(
        self,
        directory: Directory,
        *,
        deactivated: PersonHook = _nothing,
        erased: PersonHook = _nothing,
    ) -> None:
        self.directory = directory
        self._deactivated = deactivated
        self._erased = erased

    def register(self, consumer: EventConsumer) -> None:
        consumer.handle(UserRegistered)(self.on_user_registered)
        consumer.handle(UserRoleChanged)(self.on_role_changed)
        consumer.handle(UserDeactivated)(self.on_user_deactivated)
        consumer.handle(UserErasureRequested)(self.on_erasure_requested)
        consumer.handle(CircleMemberAdded)(self.on_circle_member_added)
        consumer.handle(CircleMemberRemoved)(self.on_circle_member_removed)

    async def on_user_registered(self, data: UserRegistered, envelope: Envelope) -> None:
        await self.directory.remember_person(
            envelope.tenant_id, data.user_id, role=data.role, active=True
        )

    async def on_role_changed(self, data: UserRoleChanged, envelope: Envelope) -> None:
        await self.directory.remember_person(envelope.tenant_id, data.user_id, role=data.new_role)

    async def on_user_deactivated(self, data: UserDeactivated, envelope: Envelope) -> None:
        """A deactivated person reaches nobody any more, through no circle."""
        tenant = envelope.tenant_id
        await self.directory.remember_person(tenant, data.user_id, active=False)
        await self.directory.remove_member_everywhere(tenant, data.user_id)
        await self._deactivated(tenant, data.user_id)

    async def on_erasure_requested(self, data: UserErasureRequested, envelope: Envelope) -> None:
        await self._erased(envelope.tenant_id, data.user_id)
        await self.directory.forget_person(envelope.tenant_id, data.user_id)

    async def on_circle_member_added(self, data: CircleMemberAdded, envelope: Envelope) -> None:
        await self.directory.add_to_circle(
            envelope.tenant_id, data.resident_id, data.member_id, data.relationship
        )

    async def on_circle_member_removed(self, data: CircleMemberRemoved, envelope: Envelope) -> None:
        await self.directory.remove_from_circle(
            envelope.tenant_id, data.resident_id, data.member_id
        )
