"""One collection of the MongoDB adapter.

Each aggregate is one MongoDB document shaped like a row of the SQLite adapter:

    {_id: "<len(tenant)>:<tenant>:<id>", tenant_id, id, version, doc: {...the aggregate...},
     outbox: [...events...], outbox_pending, outbox_at, outbox_owner, outbox_until,
     lease_owner, lease_until}

`_id` is qualified by tenant (length-prefixed, so no two tenant/id pairs can collide), and
sorts like `id` within one tenant, so it is the tie-break of every order. The aggregate's
own fields live under `doc` so they never clash with the store's. Every write is a single
document update guarded by a filter (version for compare-and-swap, lease for claims), so
no multi-document transaction is needed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hearth_kit.store.cursor import decode_cursor, encode_cursor
from hearth_kit.store.port import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    DuplicateKey,
    Page,
    Query,
    StoreError,
)
from hearth_kit.store.shared import (
    body_of,
    check_counters,
    check_field_name,
    check_identity,
    check_query,
    lookup,
    plain,
)

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

    from hearth_kit.store.mongo import MongoStore

# How often one claim looks again after losing documents to a concurrent claimer.
_CLAIM_ROUNDS = 3
_UPSERT_ATTEMPTS = 3
_RELEASE_LEASE = {"lease_owner": "", "lease_until": "", "lease_token": ""}
_RELEASE_OUTBOX = {"outbox_owner": "", "outbox_until": "", "outbox_token": ""}


def doc_key(tenant_id: str, doc_id: str) -> str:
    """The `_id` of an aggregate: tenant-qualified, ordered like `doc_id` within a tenant."""
    return f"{len(tenant_id)}:{tenant_id}:{doc_id}"


def field_path(field: str) -> str:
    """Where a port field lives in the stored document."""
    if field == "id":
        return "_id"
    if field in ("tenant_id", "version"):
        return field
    return "doc." + check_field_name(field)


def _lease_free(lease_field: str, now: float) -> Document:
    return {"$or": [{lease_field: None}, {lease_field: {"$lt": now}}]}


def _after_cursor(order: str, descending: bool, value: Any, key: str) -> Document:
    """Documents after (value, key) in (order, _id) order; nulls sort first ascending."""
    op = "$lt" if descending else "$gt"
    if order == "_id":
        return {"_id": {op: key}}
    if value is None:
        if descending:
            return {order: None, "_id": {"$lt": key}}
        return {"$or": [{order: {"$ne": None}}, {"_id": {"$gt": key}}]}
    branches: list[Document] = [{order: {op: value}}, {order: value, "_id": {op: key}}]
    if descending:
        branches.append({order: None})
    return {"$or": branches}


class MongoCollection(Collection):
    def __init__(
        self, store: MongoStore, coll: AsyncCollection[Document], spec: CollectionSpec
    ) -> None:
        self.spec = spec
        self._store = store
        self._coll = coll

    # ---- helpers ------------------------------------------------------------------------
    @staticmethod
    def _to_doc(raw: Document) -> Document:
        doc: Document = dict(raw.get("doc") or {})
        doc["id"] = raw["id"]
        doc["tenant_id"] = raw["tenant_id"]
        doc["version"] = raw["version"]
        doc["outbox"] = list(raw.get("outbox") or [])
        if raw.get("lease_owner") is not None:
            doc["lease_owner"] = raw["lease_owner"]
            doc["lease_until"] = raw.get("lease_until")
        return doc

    def _query_value(self, tenant_id: str, field: str, value: Any) -> Any:
        if field == "id" and isinstance(value, str):
            return doc_key(tenant_id, value)
        return value

    def _due_path(self) -> str:
        if not self.spec.due_field:
            raise StoreError(f"{self.spec.name} declares no due field")
        return field_path(self.spec.due_field)

    async def _duplicate(self, exc: DuplicateKeyError, doc: Document) -> DuplicateKey:
        unique = [ix for ix in self.spec.indexes if ix.unique]
        message = str((exc.details or {}).get("errmsg") or exc)
        for ix in unique:
            if f"index: {ix.name} " in message:
                return DuplicateKey(self.spec.name, ix.columns())
        if "index: _id_ " not in message:
            # The error does not name the index: look for the document holding the key.
            key = doc_key(doc["tenant_id"], doc["id"])
            for ix in unique:
                cols = ix.columns()
                values = [plain(lookup(doc, c)) for c in cols]
                if any(v is None for v in values):
                    continue
                holder: Document = {
                    field_path(c): self._query_value(doc["tenant_id"], c, v)
                    for c, v in zip(cols, values, strict=True)
                }
                holder["_id"] = {"$ne": key}
                if await self._coll.find_one(holder, {"_id": 1}) is not None:
                    return DuplicateKey(self.spec.name, cols)
        return DuplicateKey(self.spec.name, ("tenant_id", "id"))

    async def _claim(
        self, ready: Document, order: str, lease: Document, token_field: str, limit: int
    ) -> list[Document]:
        """Lease up to `limit` documents matching `ready`, oldest `order` first. Each is
        taken by a guarded update that re-checks `ready`, so no two claimers share one."""
        token = uuid.uuid4().hex
        sort = [(order, 1), ("_id", 1)]
        candidates: list[Any] = []
        claimed = 0
        for _ in range(_CLAIM_ROUNDS):
            want = limit - claimed
            if want <= 0:
                break
            found = await self._coll.find(ready, {"_id": 1}, sort=sort, limit=want).to_list()
            if not found:
                break
            batch = [f["_id"] for f in found]
            result = await self._coll.update_many(
                {"_id": {"$in": batch}, **ready}, {"$set": {**lease, token_field: token}}
            )
            candidates.extend(batch)
            claimed += result.modified_count
            if result.modified_count == len(batch):
                break
        if not claimed:
            return []
        raws = await self._coll.find(
            {"_id": {"$in": candidates}, token_field: token}, sort=sort
        ).to_list()
        return [self._to_doc(r) for r in raws]

    # ---- reads --------------------------------------------------------------------------
    async def get(self, tenant_id: str, doc_id: str) -> Document | None:
        raw = await self._coll.find_one({"_id": doc_key(tenant_id, doc_id), "tenant_id": tenant_id})
        return self._to_doc(raw) if raw is not None else None

    async def find(self, tenant_id: str, query: Query) -> Page:
        limit = check_query(self.spec, query)
        conditions: list[Document] = []
        for name, value in query.where.items():
            conditions.append({field_path(name): self._query_value(tenant_id, name, value)})
        for name, rng in query.ranges.items():
            bounds = {
                op: self._query_value(tenant_id, name, bound)
                for op, bound in (
                    ("$gt", rng.gt),
                    ("$gte", rng.gte),
                    ("$lt", rng.lt),
                    ("$lte", rng.lte),
                )
                if bound is not None
            }
            if bounds:
                conditions.append({field_path(name): bounds})
        order = field_path(query.order_by)
        direction = -1 if query.descending else 1
        sort = [(order, direction)] if order == "_id" else [(order, direction), ("_id", direction)]
        if query.cursor:
            value, last_id = decode_cursor(query.cursor)
            conditions.append(
                _after_cursor(order, query.descending, value, doc_key(tenant_id, last_id))
            )
        selector: Document = {"tenant_id": tenant_id}
        if conditions:
            selector["$and"] = conditions
        raws = await self._coll.find(selector, sort=sort, limit=limit + 1).to_list()
        docs = [self._to_doc(r) for r in raws[:limit]]
        next_cursor = None
        if len(raws) > limit:
            last = docs[-1]
            next_cursor = encode_cursor(lookup(last, query.order_by), last["id"])
        return Page(items=docs, next_cursor=next_cursor)

    # ---- writes -------------------------------------------------------------------------
    async def insert(self, doc: Document, *, events: Sequence[Document] = ()) -> Document:
        check_identity(self.spec, doc)
        stored: Document = {
            "_id": doc_key(doc["tenant_id"], doc["id"]),
            "tenant_id": doc["tenant_id"],
            "id": doc["id"],
            "version": 1,
            "doc": plain(body_of(doc)),
            "outbox": plain(list(events)),
            "outbox_pending": bool(events),
        }
        if events:
            stored["outbox_at"] = time.time()
        try:
            await self._coll.insert_one(stored)
        except DuplicateKeyError as exc:
            raise (await self._duplicate(exc, doc)) from exc
        if events:
            self._store.notify_outbox()
        return {**doc, "version": 1, "outbox": list(events)}

    async def save(
        self, doc: Document, *, expected_version: int, events: Sequence[Document] = ()
    ) -> Document:
        check_identity(self.spec, doc)
        changes: Document = {"doc": plain(body_of(doc)), "version": expected_version + 1}
        update: Document = {"$set": changes, "$unset": _RELEASE_LEASE}
        if events:
            changes["outbox_pending"] = True
            update["$push"] = {"outbox": {"$each": plain(list(events))}}
            update["$min"] = {"outbox_at": time.time()}
        try:
            after = await self._coll.find_one_and_update(
                {"_id": doc_key(doc["tenant_id"], doc["id"]), "version": expected_version},
                update,
                projection={"outbox": 1},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError as exc:
            raise (await self._duplicate(exc, doc)) from exc
        if after is None:
            raise ConcurrencyConflict(self.spec.name, doc["id"], expected_version)
        if events:
            self._store.notify_outbox()
        saved = {k: v for k, v in doc.items() if k not in ("lease_owner", "lease_until")}
        return {**saved, "version": expected_version + 1, "outbox": list(after.get("outbox") or [])}

    async def delete(self, tenant_id: str, doc_id: str) -> bool:
        result = await self._coll.delete_one(
            {"_id": doc_key(tenant_id, doc_id), "tenant_id": tenant_id}
        )
        return result.deleted_count > 0

    # ---- outbox -------------------------------------------------------------------------
    async def claim_outbox(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        if limit <= 0:
            return []
        ready = {"outbox_pending": True, **_lease_free("outbox_until", now)}
        lease = {"outbox_owner": owner, "outbox_until": now + lease_seconds}
        return await self._claim(ready, "outbox_at", lease, "outbox_token", limit)

    async def ack_outbox(self, tenant_id: str, doc_id: str, event_ids: Sequence[str]) -> None:
        key = doc_key(tenant_id, doc_id)
        await self._coll.update_one(
            {"_id": key},
            {
                "$pull": {"outbox": {"event_id": {"$in": [str(e) for e in event_ids]}}},
                "$unset": _RELEASE_OUTBOX,
            },
        )
        # Guarded by the outbox being empty now: events appended meanwhile stay pending.
        await self._coll.update_one(
            {"_id": key, "outbox_pending": True, "outbox": {"$size": 0}},
            {"$set": {"outbox_pending": False}, "$unset": {"outbox_at": ""}},
        )

    # ---- timers -------------------------------------------------------------------------
    async def claim_due(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        due = self._due_path()
        if limit <= 0:
            return []
        ready = {due: {"$lte": now}, **_lease_free("lease_until", now)}
        lease = {"lease_owner": owner, "lease_until": now + lease_seconds}
        return await self._claim(ready, due, lease, "lease_token", limit)

    async def next_due(self, *, after: float, until: float, limit: int) -> list[Document]:
        due = self._due_path()
        if limit <= 0:
            return []
        raws = await self._coll.find(
            {due: {"$gt": after, "$lte": until}}, sort=[(due, 1), ("_id", 1)], limit=limit
        ).to_list()
        return [self._to_doc(r) for r in raws]

    async def count_due(self, *, now: float) -> tuple[int, float | None]:
        due = self._due_path()
        ready = {due: {"$lte": now}, **_lease_free("lease_until", now)}
        count = await self._coll.count_documents(ready)
        if not count:
            return 0, None
        first = await self._coll.find_one(ready, {due: 1}, sort=[(due, 1)])
        oldest = lookup(first, due) if first is not None else None
        return count, None if oldest is None else float(oldest)

    # ---- counters and expiry ------------------------------------------------------------
    async def increment(
        self,
        tenant_id: str,
        doc_id: str,
        counters: Mapping[str, float],
        *,
        set_on_insert: Mapping[str, Any] | None = None,
    ) -> None:
        identity = {"tenant_id": tenant_id, "id": doc_id}
        check_identity(self.spec, identity)
        check_counters(self.spec, counters)
        if not counters:
            return
        on_insert: Document = {
            **identity,
            "version": 1,
            "outbox": [],
            "outbox_pending": False,
        }
        for name, value in plain(body_of(dict(set_on_insert or {}))).items():
            if name not in counters:
                on_insert["doc." + name] = value
        update = {
            "$inc": {"doc." + name: amount for name, amount in counters.items()},
            "$setOnInsert": on_insert,
        }
        key = doc_key(tenant_id, doc_id)
        for attempt in range(_UPSERT_ATTEMPTS):
            try:
                await self._coll.update_one({"_id": key}, update, upsert=True)
                return
            except DuplicateKeyError as exc:
                # Two first increments raced to create the document: the loser retries
                # and now finds it. Anything else is a real unique-key violation.
                if attempt + 1 == _UPSERT_ATTEMPTS:
                    raise (
                        await self._duplicate(exc, {**(set_on_insert or {}), **identity})
                    ) from exc

    async def expire(self, *, before: float) -> int:
        if not self.spec.expires_field:
            raise StoreError(f"{self.spec.name} declares no expiry field")
        result = await self._coll.delete_many(
            {field_path(self.spec.expires_field): {"$lt": before}}
        )
        return result.deleted_count
