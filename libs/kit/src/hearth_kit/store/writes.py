"""Writes many repositories need, written once on the port: save an aggregate at the
version it was loaded at (0: new), set some fields of a document (creating it if absent)
with compare-and-swap, and delete every document of a tenant matching one indexed field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hearth_kit.store.port import Collection, ConcurrencyConflict, Document, DuplicateKey, Query

# A merge that keeps losing to other writers gives up after this many tries.
MERGE_ATTEMPTS = 5
_DELETE_PAGE = 500


async def save_versioned(
    collection: Collection, doc: Document, *, version: int, events: Sequence[Document] = ()
) -> int:
    """Insert `doc` if it was loaded as new (version 0), else save it with compare-and-
    swap; returns its new version. ConcurrencyConflict if another writer got there first,
    the same for a first insert that lost (so callers retry both alike)."""
    if version == 0:
        try:
            await collection.insert(doc, events=events)
        except DuplicateKey as exc:
            raise ConcurrencyConflict(collection.spec.name, str(doc["id"]), 0) from exc
        return 1
    saved = await collection.save(doc, expected_version=version, events=events)
    return int(saved["version"])


async def merge_fields(
    collection: Collection,
    tenant_id: str,
    doc_id: str,
    changes: Mapping[str, Any],
    *,
    attempts: int = MERGE_ATTEMPTS,
) -> None:
    """Create the document with `changes`, or set them on the stored one. Nothing is
    written when it already holds them; a lost race is retried, and after `attempts`
    raises ConcurrencyConflict."""
    for _ in range(attempts):
        doc = await collection.get(tenant_id, doc_id)
        try:
            if doc is None:
                await collection.insert({"id": doc_id, "tenant_id": tenant_id, **changes})
            elif any(doc.get(key) != value for key, value in changes.items()):
                await collection.save({**doc, **changes}, expected_version=doc["version"])
            return
        except (DuplicateKey, ConcurrencyConflict):
            continue
    raise ConcurrencyConflict(collection.spec.name, doc_id, -1)


async def delete_where(collection: Collection, tenant_id: str, field: str, value: Any) -> int:
    """Delete the tenant's documents whose indexed `field` equals `value`; returns how
    many. Pages until none is left, so documents added meanwhile go too."""
    removed = 0
    while True:
        page = await collection.find(tenant_id, Query(where={field: value}, limit=_DELETE_PAGE))
        if not page.items:
            return removed
        for doc in page.items:
            removed += int(await collection.delete(tenant_id, doc["id"]))
