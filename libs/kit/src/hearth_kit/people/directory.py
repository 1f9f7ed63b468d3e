"""A service's local projection of identity's people and circles of support, on the
store port, and `People`: the projection first, identity over HTTP for the rest.

Events fill the projection (see `hearth_kit.people.events`). A person or a circle
membership identity created a moment ago may be asked about before its event has been
consumed here; then `People` asks identity with the caller's own token (so identity
applies its own tenancy and roles) and remembers the answer, so identity is asked once.
"""

from __future__ import annotations

from typing import Any

from hearth_kit.people.identity import IdentityLookup
from hearth_kit.people.model import Person
from hearth_kit.store.port import Collection, CollectionSpec, Index, OpenCollection
from hearth_kit.store.writes import delete_where, merge_fields

# Every service keeps its projection under these names, in its own database. The store
# puts `tenant_id` first in every index.
PEOPLE = CollectionSpec(name="people")
CIRCLES = CollectionSpec(
    name="circle_links", indexes=(Index(("member_id",)), Index(("resident_id",)))
)


class Directory:
    """People (role, still active) and circle links (resident, member, relationship)."""

    def __init__(self, people: Collection, circles: Collection) -> None:
        self.people = people
        self.circles = circles

    @classmethod
    async def open(cls, open_collection: OpenCollection) -> Directory:
        # Nothing is published from here: the projection has no outbox.
        return cls(
            await open_collection(PEOPLE, outbox=False),
            await open_collection(CIRCLES, outbox=False),
        )

    async def person(self, tenant_id: str, user_id: str) -> Person | None:
        doc = await self.people.get(tenant_id, user_id)
        if doc is None:
            return None
        return Person(user_id, doc.get("role"), bool(doc.get("active", True)))

    async def remember_person(
        self, tenant_id: str, user_id: str, *, role: str | None = None, active: bool | None = None
    ) -> None:
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = role
        if active is not None:
            changes["active"] = active
        await merge_fields(self.people, tenant_id, user_id, changes)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        """Erasure: the person and every circle link they are part of."""
        await self.people.delete(tenant_id, user_id)
        await delete_where(self.circles, tenant_id, "member_id", user_id)
        await delete_where(self.circles, tenant_id, "resident_id", user_id)

    async def in_circle(self, tenant_id: str, resident_id: str, member_id: str) -> bool:
        return await self.circles.get(tenant_id, _link_id(resident_id, member_id)) is not None

    async def add_to_circle(
        self, tenant_id: str, resident_id: str, member_id: str, relationship: str | None
    ) -> None:
        await merge_fields(
            self.circles,
            tenant_id,
            _link_id(resident_id, member_id),
            {"resident_id": resident_id, "member_id": member_id, "relationship": relationship},
        )

    async def remove_from_circle(self, tenant_id: str, resident_id: str, member_id: str) -> None:
        await self.circles.delete(tenant_id, _link_id(resident_id, member_id))

    async def remove_member_everywhere(self, tenant_id: str, member_id: str) -> None:
        await delete_where(self.circles, tenant_id, "member_id", member_id)


class People:
    """Who someone is and whose circle they are in: the directory, then identity.

    Identity is asked only with a token (callers pass one when the rules let the caller
    learn about people beyond the projection) and only when a lookup is configured.
    Raises IdentityUnavailable when identity cannot answer."""

    def __init__(self, directory: Directory, identity: IdentityLookup | None = None) -> None:
        self.directory = directory
        self.identity = identity

    async def person(
        self, tenant_id: str, user_id: str, *, token: str | None = None
    ) -> Person | None:
        person = await self.directory.person(tenant_id, user_id)
        if person is not None or self.identity is None or token is None:
            return person
        person = await self.identity.user(user_id, token=token)
        if person is not None:
            await self.directory.remember_person(
                tenant_id, user_id, role=person.role, active=person.active
            )
        return person

    async def in_circle(
        self, tenant_id: str, resident_id: str, member_id: str, *, token: str | None = None
    ) -> bool:
        if await self.directory.in_circle(tenant_id, resident_id, member_id):
            return True
        if self.identity is None or token is None:
            return False
        for member in await self.identity.circle(resident_id, token=token) or ():
            if member.member_id == member_id:
                await self.directory.add_to_circle(
                    tenant_id, resident_id, member_id, member.relationship
                )
                if member.role is not None:
                    await self.directory.remember_person(tenant_id, member_id, role=member.role)
                return True
        return False


def _link_id(resident_id: str, member_id: str) -> str:
    return f"{resident_id}:{member_id}"
