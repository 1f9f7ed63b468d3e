"""What chat knows from identity's events: people (role, still active) and circles of
support. Filled by the service's consumer group, and by asking identity (with the
caller's own token) about someone whose events have not arrived yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth_kit.store import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    DuplicateKey,
    Index,
    Query,
)

PEOPLE = CollectionSpec(name="people")
CIRCLES = CollectionSpec(
    name="circle_links", indexes=(Index(("member_id",)), Index(("resident_id",)))
)
_ATTEMPTS = 5


@dataclass(frozen=True)
class Person:
    user_id: str
    role: str | None
    active: bool


class Directory:
    def __init__(self, people: Collection, circles: Collection) -> None:
        self.people = people
        self.circles = circles

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
        for _ in range(_ATTEMPTS):
            doc = await self.people.get(tenant_id, user_id)
            try:
                if doc is None:
                    await self.people.insert({"id": user_id, "tenant_id": tenant_id, **changes})
                elif any(doc.get(k) != v for k, v in changes.items()):
                    await self.people.save({**doc, **changes}, expected_version=doc["version"])
                return
            except (DuplicateKey, ConcurrencyConflict):
                continue
        raise ConcurrencyConflict(PEOPLE.name, user_id, -1)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        await self.people.delete(tenant_id, user_id)
        await self._erase(tenant_id, "member_id", user_id)
        await self._erase(tenant_id, "resident_id", user_id)

    async def in_circle(self, tenant_id: str, resident_id: str, member_id: str) -> bool:
        return await self.circles.get(tenant_id, _link_id(resident_id, member_id)) is not None

    async def add_to_circle(
        self, tenant_id: str, resident_id: str, member_id: str, relationship: str | None
    ) -> None:
        doc = {
            "id": _link_id(resident_id, member_id),
            "tenant_id": tenant_id,
            "resident_id": resident_id,
            "member_id": member_id,
            "relationship": relationship,
        }
        try:
            await self.circles.insert(doc)
        except DuplicateKey:
            pass  # already known

    async def remove_from_circle(self, tenant_id: str, resident_id: str, member_id: str) -> None:
        await self.circles.delete(tenant_id, _link_id(resident_id, member_id))

    async def remove_member_everywhere(self, tenant_id: str, member_id: str) -> None:
        await self._erase(tenant_id, "member_id", member_id)

    async def _erase(self, tenant_id: str, field: str, value: str) -> None:
        while True:
            page = await self.circles.find(tenant_id, Query(where={field: value}, limit=500))
            if not page.items:
                return
            for doc in page.items:
                await self.circles.delete(tenant_id, doc["id"])


def _link_id(resident_id: str, member_id: str) -> str:
    return f"{resident_id}:{member_id}"
