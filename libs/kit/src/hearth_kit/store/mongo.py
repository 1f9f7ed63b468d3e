"""MongoDB adapter of the store port, on PyMongo's async API (`AsyncMongoClient`).

Production, docker compose and Kubernetes use it. `MongoStore` owns the client and the
indexes; each collection is handled by `MongoCollection` (see mongo_collection.py), whose
documents behave exactly like the SQLite adapter's. Commands are traced with OpenTelemetry
when a tracer provider is installed.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from hearth_kit.store.mongo_collection import MongoCollection, doc_key, field_path
from hearth_kit.store.port import CollectionSpec, Document, Store

__all__ = ["MongoCollection", "MongoStore", "doc_key", "instrument_pymongo"]

log = logging.getLogger("hearth.store")


def instrument_pymongo() -> None:
    """Trace MongoDB commands with OpenTelemetry (idempotent; clients created later)."""
    try:
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    except ImportError:  # pragma: no cover - the kit depends on it
        return
    instrumentor = PymongoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        try:
            instrumentor.instrument()
        except Exception:  # tracing must never stop a service from starting
            log.warning("MongoDB command tracing unavailable", exc_info=True)


def _hosts(url: str) -> str:
    """The scheme and hosts of a MongoDB URL, without credentials, path or options."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "?"
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{hosts}"


async def _ensure_indexes(coll: Any, spec: CollectionSpec) -> None:
    await coll.create_index(
        [("outbox_at", ASCENDING), ("_id", ASCENDING)],
        name="outbox_pending",
        partialFilterExpression={"outbox_pending": True},
    )
    if spec.due_field:
        await coll.create_index(
            [(field_path(spec.due_field), ASCENDING), ("_id", ASCENDING)], name="due"
        )
    if spec.expires_field:
        # Expiry times are epoch seconds, not dates, so `expire` deletes explicitly; this
        # index keeps that delete cheap.
        await coll.create_index([(field_path(spec.expires_field), ASCENDING)], name="expires")
    for ix in spec.indexes:
        paths = [field_path(c) for c in ix.columns()]
        options: dict[str, Any] = {"name": ix.name}
        if ix.unique:
            options["unique"] = True
            # Documents missing a field of the key are not constrained (as in SQLite).
            present = {p: {"$exists": True} for p in paths if p.startswith("doc.")}
            if present:
                options["partialFilterExpression"] = present
        elif "_id" not in paths:
            paths.append("_id")  # the tie-break of every order
        await coll.create_index([(p, ASCENDING) for p in paths], **options)


class MongoStore(Store):
    """One service's MongoDB database."""

    kind = "mongodb"

    def __init__(
        self,
        url: str,
        database: str,
        *,
        client: AsyncMongoClient[Document] | None = None,
        trace: bool = True,
    ) -> None:
        if not database:
            raise ValueError("MongoStore needs a database name")
        self._url = url
        self.database_name = database
        if client is None:
            if trace:
                instrument_pymongo()
            client = AsyncMongoClient(url)
        self._client = client
        self._db = client[database]
        self._opened: dict[CollectionSpec, MongoCollection] = {}

    async def collection(self, spec: CollectionSpec) -> MongoCollection:
        opened = self._opened.get(spec)
        if opened is None:
            coll = self._db[spec.name]
            await _ensure_indexes(coll, spec)
            opened = self._opened[spec] = MongoCollection(self, coll, spec)
        return opened

    async def ping(self) -> None:
        await self._db.command("ping")

    async def close(self) -> None:
        await self._client.close()

    def describe(self) -> str:
        return f"MongoDB {_hosts(self._url)}/{self.database_name}"
