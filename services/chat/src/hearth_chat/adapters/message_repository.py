"""The messages of every conversation: appended with gap-free sequence numbers, paged
both ways, and queried for safeguarding flags and erasure. Scoped by tenant."""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from hearth_chat.adapters.documents import message_doc, message_from
from hearth_chat.domain.message import Message
from hearth_kit.errors import concurrent_change
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    Document,
    DuplicateKey,
    Index,
    Query,
    Range,
)

MESSAGES = CollectionSpec(
    name="messages",
    indexes=(
        # One message per place in a conversation: concurrent senders cannot share a seq.
        Index(("conversation_id", "seq"), unique=True),
        # A send retried with the same client ref is stored once.
        Index(("conversation_id", "author_id", "client_ref"), unique=True),
        Index(("flag_status", "flagged_at")),
        Index(("author_id", "sent_at")),
    ),
)
# Senders in one process take turns per conversation; senders on other replicas can still
# take the same seq, and the loser retries for the next free one this many times, after a
# short random pause that grows (so two replicas stop colliding in lockstep).
SEQ_ATTEMPTS = 50
_BACKOFF_SECONDS = (0.001, 0.010)
_BACKOFF_GROWTH_CAP = 10


BuildMessage = Callable[[int], tuple[Message, Sequence[Document]]]


class Messages:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        # One lock per conversation being appended to; a lock nobody holds or waits for
        # is dropped, so idle conversations cost nothing.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, tenant_id: str, conversation_id: str) -> asyncio.Lock:
        key = (tenant_id, conversation_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def last_seq(self, tenant_id: str, conversation_id: str) -> int:
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"conversation_id": conversation_id},
                order_by="seq",
                descending=True,
                limit=1,
            ),
        )
        return int(page.items[0]["seq"]) if page.items else 0

    async def append(
        self, tenant_id: str, conversation_id: str, build: BuildMessage
    ) -> tuple[Message, bool]:
        """Store the next message of a conversation with its events, in one write.

        `build(seq)` makes the message at that place. Its seq is one more than the last
        stored, taken by a unique insert, so sequence numbers have no gaps and a message
        is stored only after every earlier one. Returns (message, created); created is
        False when the same client ref was already stored (a retried send).
        """
        async with self._lock(tenant_id, conversation_id):
            for attempt in range(SEQ_ATTEMPTS):
                if attempt:
                    low, high = _BACKOFF_SECONDS
                    growth = min(attempt, _BACKOFF_GROWTH_CAP)
                    pause = random.uniform(low, high) * growth  # noqa: S311 (jitter, not a secret)
                    await asyncio.sleep(pause)
                stored = await self._try_append(tenant_id, conversation_id, build)
                if stored is not None:
                    return stored
        raise concurrent_change("the conversation")

    async def _try_append(
        self, tenant_id: str, conversation_id: str, build: BuildMessage
    ) -> tuple[Message, bool] | None:
        """One attempt at the next seq; None if another replica took it first."""
        seq = await self.last_seq(tenant_id, conversation_id) + 1
        message, events = build(seq)
        try:
            await self.collection.insert(message_doc(message), events=events)
        except DuplicateKey as exc:
            if exc.key == ("tenant_id", "id"):
                # The same message (a deterministic id) was stored before: done.
                stored = await self.get(tenant_id, message.id)
                if stored is not None:
                    return stored[0], False
            if "client_ref" in exc.key and message.client_ref is not None:
                existing = await self.by_client_ref(
                    tenant_id, conversation_id, message.author_id, message.client_ref
                )
                if existing is not None:
                    return existing, False
            return None
        return message, True

    async def by_client_ref(
        self, tenant_id: str, conversation_id: str, author_id: str, client_ref: str
    ) -> Message | None:
        page = await self.collection.find(
            tenant_id,
            Query(
                where={
                    "conversation_id": conversation_id,
                    "author_id": author_id,
                    "client_ref": client_ref,
                },
                limit=1,
            ),
        )
        return message_from(page.items[0]) if page.items else None

    async def get(self, tenant_id: str, message_id: str) -> tuple[Message, int] | None:
        doc = await self.collection.get(tenant_id, message_id)
        return None if doc is None else (message_from(doc), int(doc["version"]))

    async def save(
        self, message: Message, *, version: int, events: Sequence[Document] = ()
    ) -> None:
        await self.collection.save(message_doc(message), expected_version=version, events=events)

    async def after(
        self, tenant_id: str, conversation_id: str, seq: int, *, limit: int
    ) -> list[Message]:
        """Messages after `seq`, oldest first."""
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"conversation_id": conversation_id},
                ranges={"seq": Range(gt=seq)},
                order_by="seq",
                limit=limit,
            ),
        )
        return [message_from(d) for d in page.items]

    async def before(
        self, tenant_id: str, conversation_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Message], str | None]:
        """Newest first, a page at a time backwards."""
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"conversation_id": conversation_id},
                order_by="seq",
                descending=True,
                limit=limit,
                cursor=cursor,
            ),
        )
        return [message_from(d) for d in page.items], page.next_cursor

    async def flagged(
        self, tenant_id: str, status: str | None, *, limit: int, cursor: str | None
    ) -> tuple[list[Message], str | None]:
        where: dict[str, Any] = {"flag_status": status} if status else {}
        ranges = {} if status else {"flagged_at": Range(gte=0)}
        page = await self.collection.find(
            tenant_id,
            Query(
                where=where,
                ranges=ranges,
                order_by="flagged_at",
                descending=True,
                limit=limit,
                cursor=cursor,
            ),
        )
        return [message_from(d) for d in page.items], page.next_cursor

    async def by_author(
        self, tenant_id: str, author_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[tuple[Message, int]], str | None]:
        page = await self.collection.find(
            tenant_id,
            Query(where={"author_id": author_id}, order_by="sent_at", limit=limit, cursor=cursor),
        )
        return [(message_from(d), int(d["version"])) for d in page.items], page.next_cursor
