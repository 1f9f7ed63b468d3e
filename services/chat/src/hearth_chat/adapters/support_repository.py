"""Support requests (the unanswered timer's collection) and per-council settings: the
support target and the safeguarding phrase lists. Scoped by tenant."""

from __future__ import annotations

from collections.abc import Sequence

from hearth_chat.adapters.documents import (
    DUE_FIELD,
    phrases_doc,
    phrases_from,
    request_doc,
    request_from,
)
from hearth_chat.domain.phrases import CouncilPhrases
from hearth_chat.domain.support import SupportRequest
from hearth_kit.errors import concurrent_change
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    Index,
    Query,
    merge_fields,
    save_versioned,
)

SUPPORT = CollectionSpec(
    name="support_requests",
    indexes=(Index(("status", "queue_key")), Index(("requested_by", "requested_at"))),
    due_field=DUE_FIELD,
)
SETTINGS = CollectionSpec(name="council_settings")
# How many times a read-modify-write is retried when another writer saved first.
CAS_ATTEMPTS = 8


class SupportRequests:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str, request_id: str) -> tuple[SupportRequest, int] | None:
        doc = await self.collection.get(tenant_id, request_id)
        return None if doc is None else (request_from(doc), int(doc["version"]))

    async def insert(self, request: SupportRequest, *, events: Sequence[Document]) -> None:
        await self.collection.insert(request_doc(request), events=events)

    async def save(
        self, request: SupportRequest, *, version: int, events: Sequence[Document] = ()
    ) -> int:
        saved = await self.collection.save(
            request_doc(request), expected_version=version, events=events
        )
        return int(saved["version"])

    async def queue(
        self, tenant_id: str, status: str, *, limit: int, cursor: str | None
    ) -> tuple[list[SupportRequest], str | None]:
        page = await self.collection.find(
            tenant_id,
            Query(where={"status": status}, order_by="queue_key", limit=limit, cursor=cursor),
        )
        return [request_from(d) for d in page.items], page.next_cursor

    async def open_of(self, tenant_id: str, user_id: str) -> SupportRequest | None:
        """The caller's request still waiting or claimed, if any."""
        page = await self.collection.find(
            tenant_id,
            Query(
                where={"requested_by": user_id},
                order_by="requested_at",
                descending=True,
                limit=20,
            ),
        )
        for doc in page.items:
            if doc.get("status") in ("waiting", "claimed"):
                return request_from(doc)
        return None


class CouncilSettings:
    """Per-council settings: the support target and the safeguarding phrase lists."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def support_target(self, tenant_id: str) -> float | None:
        doc = await self.collection.get(tenant_id, "support")
        value = doc.get("target_seconds") if doc else None
        return float(value) if isinstance(value, int | float) else None

    async def set_support_target(self, tenant_id: str, seconds: float, by: str) -> None:
        changes = {"target_seconds": seconds, "by": by}
        try:
            await merge_fields(
                self.collection, tenant_id, "support", changes, attempts=CAS_ATTEMPTS
            )
        except ConcurrencyConflict as exc:
            raise concurrent_change("the settings") from exc

    async def phrases(self, tenant_id: str) -> tuple[CouncilPhrases, int]:
        doc = await self.collection.get(tenant_id, "phrases")
        return (CouncilPhrases(), 0) if doc is None else (phrases_from(doc), int(doc["version"]))

    async def save_phrases(self, tenant_id: str, phrases: CouncilPhrases, *, version: int) -> None:
        """Insert (version 0) or compare-and-swap; ConcurrencyConflict if it lost."""
        await save_versioned(self.collection, phrases_doc(tenant_id, phrases), version=version)
