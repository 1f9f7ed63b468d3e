"""Repositories on the store port: resident states (the timer collection), the check-in
history, help requests, and what check-ins knows from identity (people, circles, councils).
Every call is scoped by tenant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hearth_checkins.adapters.documents import (
    DUE_FIELD,
    checkin_doc,
    checkin_from,
    state_doc,
    state_from,
)
from hearth_checkins.domain import CheckIn, ResidentCheckIns
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    DuplicateKey,
    Index,
    Query,
)

STATES = CollectionSpec(name="checkin_states", due_field=DUE_FIELD)
CHECKINS = CollectionSpec(name="checkins", indexes=(Index(("resident_id", "recorded_at")),))
HELP_REQUESTS = CollectionSpec(
    name="help_requests", indexes=(Index(("resident_id", "requested_at")),)
)
PEOPLE = CollectionSpec(name="people")
CIRCLES = CollectionSpec(
    name="circle_links", indexes=(Index(("member_id",)), Index(("resident_id",)))
)
COUNCILS = CollectionSpec(name="councils")
# Collections whose outboxes the relay publishes.
OUTBOX_SPECS = (STATES, HELP_REQUESTS)

OpenCollection = Callable[[CollectionSpec, bool], Awaitable[Collection]]


@dataclass(frozen=True)
class Person:
    user_id: str
    role: str | None
    active: bool


class States:
    """One `ResidentCheckIns` per resident; its `next_fire_at` drives the deadline timer."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def load(self, tenant_id: str, resident_id: str) -> tuple[ResidentCheckIns, int] | None:
        doc = await self.collection.get(tenant_id, resident_id)
        return None if doc is None else (state_from(doc), int(doc["version"]))

    async def save(
        self, state: ResidentCheckIns, *, version: int, events: Sequence[Document] = ()
    ) -> int:
        """Insert (version 0) or compare-and-swap save; ConcurrencyConflict if it lost."""
        doc = state_doc(state)
        if version == 0:
            try:
                await self.collection.insert(doc, events=events)
            except DuplicateKey as exc:
                raise ConcurrencyConflict(STATES.name, state.resident_id, 0) from exc
            return 1
        saved = await self.collection.save(doc, expected_version=version, events=events)
        return int(saved["version"])

    async def delete(self, tenant_id: str, resident_id: str) -> bool:
        return bool(await self.collection.delete(tenant_id, resident_id))


class History:
    """Check-ins as recorded, newest first; the resident's state keeps the latest few, so a
    crash between the two writes is repaired on the next read or write."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def add(self, tenant_id: str, checkin: CheckIn) -> None:
        try:
            await self.collection.insert({"tenant_id": tenant_id, **checkin_doc(checkin)})
        except DuplicateKey:
            pass  # already archived: repairs and retries are idempotent

    async def repair(self, tenant_id: str, recent: Sequence[CheckIn]) -> None:
        """Archive the state's latest check-ins that the history is missing."""
        for checkin in reversed(recent):
            if await self.collection.get(tenant_id, checkin.id) is not None:
                return
            await self.add(tenant_id, checkin)

    async def page(
        self, tenant_id: str, resident_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[CheckIn], str | None]:
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"resident_id": resident_id},
                order_by="recorded_at",
                descending=True,
                limit=limit,
                cursor=cursor,
            ),
        )
        return [checkin_from(doc) for doc in page.items], page.next_cursor

    async def erase(self, tenant_id: str, resident_id: str) -> int:
        return await _erase_where(self.collection, tenant_id, "resident_id", resident_id)


class HelpRequests:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def add(self, doc: Document, *, events: Sequence[Document]) -> None:
        await self.collection.insert(doc, events=events)

    async def erase(self, tenant_id: str, resident_id: str) -> int:
        return await _erase_where(self.collection, tenant_id, "resident_id", resident_id)


class Directory:
    """What check-ins knows from identity's events: people's roles and whether they are
    active, circles of support, and each council's timezone."""

    def __init__(self, people: Collection, circles: Collection, councils: Collection) -> None:
        self.people = people
        self.circles = circles
        self.councils = councils

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
        await _upsert(self.people, tenant_id, user_id, changes)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        await self.people.delete(tenant_id, user_id)
        await _erase_where(self.circles, tenant_id, "member_id", user_id)
        await _erase_where(self.circles, tenant_id, "resident_id", user_id)

    async def in_circle(self, tenant_id: str, resident_id: str, member_id: str) -> bool:
        return await self.circles.get(tenant_id, _link_id(resident_id, member_id)) is not None

    async def add_to_circle(
        self, tenant_id: str, resident_id: str, member_id: str, relationship: str
    ) -> None:
        await _upsert(
            self.circles,
            tenant_id,
            _link_id(resident_id, member_id),
            {"resident_id": resident_id, "member_id": member_id, "relationship": relationship},
        )

    async def remove_from_circle(self, tenant_id: str, resident_id: str, member_id: str) -> None:
        await self.circles.delete(tenant_id, _link_id(resident_id, member_id))

    async def remove_member_everywhere(self, tenant_id: str, member_id: str) -> None:
        await _erase_where(self.circles, tenant_id, "member_id", member_id)

    async def council_timezone(self, tenant_id: str) -> str | None:
        doc = await self.councils.get(tenant_id, tenant_id)
        value = doc.get("timezone") if doc else None
        return value if isinstance(value, str) else None

    async def remember_council(self, tenant_id: str, timezone: str) -> None:
        await _upsert(self.councils, tenant_id, tenant_id, {"timezone": timezone})


@dataclass(frozen=True)
class Repositories:
    states: States
    history: History
    help_requests: HelpRequests
    directory: Directory

    @property
    def timer_collection(self) -> Collection:
        return self.states.collection


async def open_repositories(open_collection: OpenCollection) -> Repositories:
    """Open every collection; `open_collection(spec, outbox)` registers outbox ones with
    the relay when the service has one."""

    async def open_(spec: CollectionSpec) -> Collection:
        return await open_collection(spec, spec in OUTBOX_SPECS)

    return Repositories(
        states=States(await open_(STATES)),
        history=History(await open_(CHECKINS)),
        help_requests=HelpRequests(await open_(HELP_REQUESTS)),
        directory=Directory(await open_(PEOPLE), await open_(CIRCLES), await open_(COUNCILS)),
    )


def _link_id(resident_id: str, member_id: str) -> str:
    return f"{resident_id}:{member_id}"


async def _upsert(
    collection: Collection, tenant_id: str, doc_id: str, changes: dict[str, Any]
) -> None:
    for _ in range(5):
        doc = await collection.get(tenant_id, doc_id)
        try:
            if doc is None:
                await collection.insert({"id": doc_id, "tenant_id": tenant_id, **changes})
            else:
                await collection.save({**doc, **changes}, expected_version=doc["version"])
            return
        except (DuplicateKey, ConcurrencyConflict):
            continue
    raise ConcurrencyConflict(collection.spec.name, doc_id, -1)


async def _erase_where(collection: Collection, tenant_id: str, field: str, value: str) -> int:
    removed = 0
    while True:
        page = await collection.find(tenant_id, Query(where={field: value}, limit=500))
        for doc in page.items:
            removed += int(await collection.delete(tenant_id, doc["id"]))
        if not page.items:
            return removed
