"""The inbox: the event ids a service has processed, so a redelivery is not handled twice.

Entries are kept per tenant (the same id under another tenant is another event) and
expire after a TTL; `sweep()` deletes the expired ones.
"""

from __future__ import annotations

import re
import time

from hearth_contracts import Envelope
from hearth_kit.store.port import Collection, CollectionSpec, DuplicateKey

INBOX_TTL_SECONDS = 7 * 24 * 3600.0


def inbox_spec(service_name: str) -> CollectionSpec:
    """The inbox collection of one service: processed event ids, expiring after a TTL."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", service_name)
    return CollectionSpec(name=f"{safe}_inbox", expires_field="expires_at")


class Inbox:
    """The processed event ids of one service, over its inbox collection."""

    def __init__(self, collection: Collection, *, ttl_seconds: float = INBOX_TTL_SECONDS) -> None:
        if collection.spec.expires_field is None:
            raise ValueError(f"inbox collection {collection.spec.name} declares no expires_field")
        self._collection = collection
        self._ttl = ttl_seconds

    async def seen(self, envelope: Envelope) -> bool:
        found = await self._collection.get(envelope.tenant_id, str(envelope.event_id))
        return found is not None

    async def remember(self, envelope: Envelope, topic: str, outcome: str) -> None:
        """Record the event as processed, with its outcome (handled, rejected, ...)."""
        now = time.time()
        try:
            await self._collection.insert(
                {
                    "id": str(envelope.event_id),
                    "tenant_id": envelope.tenant_id,
                    "type": envelope.type,
                    "topic": topic,
                    "outcome": outcome,
                    "processed_at": now,
                    "expires_at": now + self._ttl,
                }
            )
        except DuplicateKey:
            pass  # another delivery of the same event got there first

    async def sweep(self) -> int:
        """Delete expired entries now; returns how many."""
        return await self._collection.expire(before=time.time())
