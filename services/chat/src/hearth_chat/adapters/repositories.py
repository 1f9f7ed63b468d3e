"""Repositories on the store port. Every call is scoped by tenant; every compound index
starts with it (the store puts `tenant_id` first)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hearth_chat.adapters.documents import conversation_doc, conversation_from
from hearth_chat.adapters.message_repository import MESSAGES, Messages
from hearth_chat.adapters.support_repository import (
    CAS_ATTEMPTS,
    SETTINGS,
    SUPPORT,
    CouncilSettings,
    SupportRequests,
)
from hearth_chat.domain.conversation import Conversation
from hearth_kit.errors import concurrent_change
from hearth_kit.people.directory import Directory
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    DuplicateKey,
    Index,
    OpenCollection,
    Query,
    delete_where,
)

CONVERSATIONS = CollectionSpec(name="conversations", indexes=(Index(("kind", "created_at")),))
MEMBERSHIPS = CollectionSpec(
    name="memberships",
    indexes=(Index(("user_id", "joined_at")), Index(("conversation_id",))),
)
# Collections whose outboxes the relay publishes.
OUTBOX_SPECS = (MESSAGES, SUPPORT)


class Conversations:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str, conversation_id: str) -> Conversation | None:
        doc = await self.collection.get(tenant_id, conversation_id)
        return None if doc is None else conversation_from(doc)

    async def insert(self, conversation: Conversation) -> None:
        await self.collection.insert(conversation_doc(conversation))

    async def update(
        self, tenant_id: str, conversation_id: str, change: Callable[[Conversation], Conversation]
    ) -> Conversation | None:
        """Apply `change` with compare-and-swap (retrying a lost race); None if absent."""
        for _ in range(CAS_ATTEMPTS):
            doc = await self.collection.get(tenant_id, conversation_id)
            if doc is None:
                return None
            current = conversation_from(doc)
            new = change(current)
            if new == current:
                return current
            try:
                await self.collection.save(conversation_doc(new), expected_version=doc["version"])
            except ConcurrencyConflict:
                continue
            return new
        raise concurrent_change("the conversation")


@dataclass(frozen=True)
class Membership:
    conversation_id: str
    user_id: str
    joined_at: float
    read_seq: int = 0


class Memberships:
    """Who is in which conversation (for listing a person's conversations) and how far
    each has read. The conversation's own member list is the authority on access."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    @staticmethod
    def _id(conversation_id: str, user_id: str) -> str:
        return f"{conversation_id}:{user_id}"

    async def add(self, tenant_id: str, conversation_id: str, user_id: str, at: float) -> None:
        try:
            await self.collection.insert(
                {
                    "id": self._id(conversation_id, user_id),
                    "tenant_id": tenant_id,
                    "conversation_id": conversation_id,
                    "user_id": user_id,
                    "joined_at": at,
                    "read_seq": 0,
                }
            )
        except DuplicateKey:
            pass  # already a member: adding is idempotent

    async def remove(self, tenant_id: str, conversation_id: str, user_id: str) -> None:
        await self.collection.delete(tenant_id, self._id(conversation_id, user_id))

    async def get(self, tenant_id: str, conversation_id: str, user_id: str) -> Membership | None:
        doc = await self.collection.get(tenant_id, self._id(conversation_id, user_id))
        return None if doc is None else _membership(doc)

    async def of_user(
        self, tenant_id: str, user_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Membership], str | None]:
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"user_id": user_id},
                order_by="joined_at",
                descending=True,
                limit=limit,
                cursor=cursor,
            ),
        )
        return [_membership(d) for d in page.items], page.next_cursor

    async def mark_read(
        self, tenant_id: str, conversation_id: str, user_id: str, seq: int, at: float
    ) -> int:
        """Move the read marker forward (never back); returns where it stands."""
        doc_id = self._id(conversation_id, user_id)
        for _ in range(CAS_ATTEMPTS):
            doc = await self.collection.get(tenant_id, doc_id)
            if doc is None:
                await self.add(tenant_id, conversation_id, user_id, at)
                continue
            current = int(doc.get("read_seq", 0))
            if seq <= current:
                return current
            try:
                await self.collection.save(
                    {**doc, "read_seq": seq, "read_at": at}, expected_version=doc["version"]
                )
            except ConcurrencyConflict:
                continue
            return seq
        raise concurrent_change("the read marker")

    async def erase_user(self, tenant_id: str, user_id: str) -> None:
        await delete_where(self.collection, tenant_id, "user_id", user_id)


def _membership(doc: Document) -> Membership:
    return Membership(
        conversation_id=doc["conversation_id"],
        user_id=doc["user_id"],
        joined_at=float(doc["joined_at"]),
        read_seq=int(doc.get("read_seq", 0)),
    )


@dataclass(frozen=True)
class Repositories:
    conversations: Conversations
    memberships: Memberships
    messages: Messages
    support: SupportRequests
    settings: CouncilSettings
    directory: Directory


async def open_repositories(open_collection: OpenCollection) -> Repositories:
    """Open every collection, telling `open_collection` which carry an outbox."""

    async def open_(spec: CollectionSpec) -> Collection:
        return await open_collection(spec, outbox=spec in OUTBOX_SPECS)

    return Repositories(
        conversations=Conversations(await open_(CONVERSATIONS)),
        memberships=Memberships(await open_(MEMBERSHIPS)),
        messages=Messages(await open_(MESSAGES)),
        support=SupportRequests(await open_(SUPPORT)),
        settings=CouncilSettings(await open_(SETTINGS)),
        directory=await Directory.open(open_collection),
    )
