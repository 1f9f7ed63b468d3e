"""Repositories on the store port: resident states (the timer collection), the check-in
history, help requests, councils' timezones, and the kit's projection of identity's
people and circles (`hearth_kit.people`). Every call is scoped by tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearth_checkins.adapters.documents import (
    DUE_FIELD,
    checkin_doc,
    checkin_from,
    state_doc,
    state_from,
)
from hearth_checkins.domain import CheckIn, ResidentCheckIns
from hearth_kit.people.directory import Directory
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    Document,
    DuplicateKey,
    Index,
    OpenCollection,
    Query,
    delete_where,
    merge_fields,
    save_versioned,
)

STATES = CollectionSpec(name="checkin_states", due_field=DUE_FIELD)
CHECKINS = CollectionSpec(name="checkins", indexes=(Index(("resident_id", "recorded_at")),))
HELP_REQUESTS = CollectionSpec(
    name="help_requests", indexes=(Index(("resident_id", "requested_at")),)
)
COUNCILS = CollectionSpec(name="councils")
# Collections whose outboxes the relay publishes.
OUTBOX_SPECS = (STATES, HELP_REQUESTS)


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
        return await save_versioned(
            self.collection, state_doc(state), version=version, events=events
        )

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
        return await delete_where(self.collection, tenant_id, "resident_id", resident_id)


class HelpRequests:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def add(self, doc: Document, *, events: Sequence[Document]) -> None:
        await self.collection.insert(doc, events=events)

    async def erase(self, tenant_id: str, resident_id: str) -> int:
        return await delete_where(self.collection, tenant_id, "resident_id", resident_id)


class Councils:
    """Each council's timezone, from identity's `identity.tenant.created`."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def timezone(self, tenant_id: str) -> str | None:
        doc = await self.collection.get(tenant_id, tenant_id)
        value = doc.get("timezone") if doc else None
        return value if isinstance(value, str) else None

    async def remember(self, tenant_id: str, timezone: str) -> None:
        await merge_fields(self.collection, tenant_id, tenant_id, {"timezone": timezone})


@dataclass(frozen=True)
class Repositories:
    states: States
    history: History
    help_requests: HelpRequests
    councils: Councils
    directory: Directory

    @property
    def timer_collection(self) -> Collection:
        return self.states.collection


async def open_repositories(open_collection: OpenCollection) -> Repositories:
    """Open every collection, telling `open_collection` which carry an outbox."""

    async def open_(spec: CollectionSpec) -> Collection:
        return await open_collection(spec, outbox=spec in OUTBOX_SPECS)

    return Repositories(
        states=States(await open_(STATES)),
        history=History(await open_(CHECKINS)),
        help_requests=HelpRequests(await open_(HELP_REQUESTS)),
        councils=Councils(await open_(COUNCILS)),
        directory=await Directory.open(open_collection),
    )
