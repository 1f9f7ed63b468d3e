"""SQLite adapter of the store port: the embedded default (one file per service, WAL).

Each collection is a table with the aggregate as JSON plus the columns the port needs to
be fast and safe: (tenant_id, id) primary key, version for compare-and-swap, the outbox
and its relay lease, and real columns for the due and expiry times of timers. Declared
indexes are expression indexes on the JSON fields, tenant first. Writes that read first
run in `BEGIN IMMEDIATE` so concurrent processes on the same file serialise cleanly.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from hearth_kit.store.cursor import decode_cursor, encode_cursor
from hearth_kit.store.port import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    DuplicateKey,
    Page,
    Query,
    Store,
    StoreError,
)

T = TypeVar("T")
_RESERVED = {"id", "tenant_id", "version", "outbox", "lease_owner", "lease_until"}
_BUSY_TIMEOUT_MS = 10_000


def _path(field: str) -> str:
    if not field.replace("_", "").replace(".", "").isalnum():
        raise StoreError(f"invalid field name {field!r}")
    return "$." + field


def _expr(field: str) -> str:
    if field in ("id", "tenant_id", "version"):
        return field
    return f"json_extract(doc, '{_path(field)}')"


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteCollection(Collection):
    def __init__(self, store: SqliteStore, spec: CollectionSpec) -> None:
        self.spec = spec
        self._store = store
        self._table = f'"{spec.name}"'

    # ---- helpers ------------------------------------------------------------------------
    def _row_to_doc(self, row: sqlite3.Row) -> Document:
        doc: Document = json.loads(row["doc"])
        doc["id"] = row["id"]
        doc["tenant_id"] = row["tenant_id"]
        doc["version"] = row["version"]
        doc["outbox"] = json.loads(row["outbox"])
        if row["lease_owner"] is not None:
            doc["lease_owner"] = row["lease_owner"]
            doc["lease_until"] = row["lease_until"]
        return doc

    def _body(self, doc: Document) -> str:
        return json.dumps({k: v for k, v in doc.items() if k not in _RESERVED}, default=str)

    def _timer_columns(self, doc: Document) -> tuple[Any, Any]:
        due = doc.get(self.spec.due_field) if self.spec.due_field else None
        expires = doc.get(self.spec.expires_field) if self.spec.expires_field else None
        return due, expires

    def _duplicate(self, exc: sqlite3.IntegrityError) -> DuplicateKey:
        message = str(exc)
        for ix in self.spec.indexes:
            if ix.unique and ix.name in message:
                return DuplicateKey(self.spec.name, ix.columns())
        return DuplicateKey(self.spec.name, ("tenant_id", "id"))

    def _unique_violation(self, conn: sqlite3.Connection, doc: Document) -> DuplicateKey | None:
        # SQLite reports expression-index violations without the index name: find which.
        for ix in self.spec.indexes:
            if not ix.unique:
                continue
            cols = ix.columns()
            clause = " AND ".join(f"{_expr(c)} = ?" for c in cols)
            values = [_sql_value(doc.get(c)) for c in cols]
            if any(v is None for v in values):
                continue
            row = conn.execute(
                f"SELECT id FROM {self._table} WHERE {clause} AND id != ? LIMIT 1",
                (*values, doc["id"]),
            ).fetchone()
            if row is not None:
                return DuplicateKey(self.spec.name, cols)
        return None

    # ---- reads --------------------------------------------------------------------------
    async def get(self, tenant_id: str, doc_id: str) -> Document | None:
        def run(conn: sqlite3.Connection) -> Document | None:
            row = conn.execute(
                f"SELECT * FROM {self._table} WHERE tenant_id = ? AND id = ?", (tenant_id, doc_id)
            ).fetchone()
            return self._row_to_doc(row) if row else None

        return await self._store.run(run)

    async def find(self, tenant_id: str, query: Query) -> Page:
        allowed = self.spec.indexed_fields() | {"id"}
        for name in (*query.where, *query.ranges, query.order_by):
            if name not in allowed:
                raise StoreError(f"{self.spec.name}: {name!r} is not a declared indexed field")
        limit = max(1, min(query.limit, 1000))
        clauses = ["tenant_id = ?"]
        params: list[Any] = [tenant_id]
        for name, value in query.where.items():
            if value is None:
                clauses.append(f"{_expr(name)} IS NULL")
            else:
                clauses.append(f"{_expr(name)} = ?")
                params.append(_sql_value(value))
        for name, rng in query.ranges.items():
            for op, bound in ((">", rng.gt), (">=", rng.gte), ("<", rng.lt), ("<=", rng.lte)):
                if bound is not None:
                    clauses.append(f"{_expr(name)} {op} ?")
                    params.append(_sql_value(bound))
        order = _expr(query.order_by)
        direction = "DESC" if query.descending else "ASC"
        if query.cursor:
            value, last_id = decode_cursor(query.cursor)
            cmp = "<" if query.descending else ">"
            clauses.append(f"({order}, id) {cmp} (?, ?)")
            params.extend([_sql_value(value), last_id])
        sql = (
            f"SELECT * FROM {self._table} WHERE {' AND '.join(clauses)} "
            f"ORDER BY {order} {direction}, id {direction} LIMIT ?"
        )
        params.append(limit + 1)

        def run(conn: sqlite3.Connection) -> Page:
            rows = conn.execute(sql, params).fetchall()
            docs = [self._row_to_doc(r) for r in rows[:limit]]
            next_cursor = None
            if len(rows) > limit:
                last = docs[-1]
                next_cursor = encode_cursor(_lookup(last, query.order_by), last["id"])
            return Page(items=docs, next_cursor=next_cursor)

        return await self._store.run(run)

    # ---- writes -------------------------------------------------------------------------
    async def insert(self, doc: Document, *, events: Sequence[Document] = ()) -> Document:
        saved = {**doc, "version": 1, "outbox": list(events)}
        due, expires = self._timer_columns(saved)

        def run(conn: sqlite3.Connection) -> Document:
            try:
                with conn:
                    conn.execute(
                        f"INSERT INTO {self._table} (id, tenant_id, version, doc, outbox, "
                        "outbox_pending, due, expires) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                        (
                            saved["id"], saved["tenant_id"], self._body(saved),
                            json.dumps(list(events), default=str), int(bool(events)), due, expires,
                        ),
                    )
            except sqlite3.IntegrityError as exc:
                raise self._unique_violation(conn, saved) or self._duplicate(exc) from exc
            return saved

        result = await self._store.run(run)
        if events:
            self._store.notify_outbox()
        return result

    async def save(
        self, doc: Document, *, expected_version: int, events: Sequence[Document] = ()
    ) -> Document:
        due, expires = self._timer_columns(doc)
        body = self._body(doc)

        def run(conn: sqlite3.Connection) -> Document:
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(
                    f"SELECT version, outbox FROM {self._table} WHERE tenant_id = ? AND id = ?",
                    (doc["tenant_id"], doc["id"]),
                ).fetchone()
                if row is None or row["version"] != expected_version:
                    raise ConcurrencyConflict(self.spec.name, doc["id"], expected_version)
                outbox = json.loads(row["outbox"]) + list(events)
                conn.execute(
                    f"UPDATE {self._table} SET version = ?, doc = ?, outbox = ?, "
                    "outbox_pending = ?, due = ?, expires = ?, lease_owner = NULL, "
                    "lease_until = NULL WHERE tenant_id = ? AND id = ?",
                    (
                        expected_version + 1, body, json.dumps(outbox, default=str),
                        int(bool(outbox)), due, expires, doc["tenant_id"], doc["id"],
                    ),
                )
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise self._unique_violation(conn, doc) or self._duplicate(exc) from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            saved = {k: v for k, v in doc.items() if k not in ("lease_owner", "lease_until")}
            return {**saved, "version": expected_version + 1, "outbox": outbox}

        result = await self._store.run(run)
        if events:
            self._store.notify_outbox()
        return result

    async def delete(self, tenant_id: str, doc_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            with conn:
                cur = conn.execute(
                    f"DELETE FROM {self._table} WHERE tenant_id = ? AND id = ?", (tenant_id, doc_id)
                )
            return cur.rowcount > 0

        return await self._store.run(run)

    # ---- outbox -------------------------------------------------------------------------
    async def claim_outbox(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        def run(conn: sqlite3.Connection) -> list[Document]:
            with conn:
                rows = conn.execute(
                    f"UPDATE {self._table} SET outbox_owner = ?, outbox_until = ? WHERE rowid IN ("
                    f"SELECT rowid FROM {self._table} WHERE outbox_pending = 1 AND "
                    "(outbox_until IS NULL OR outbox_until < ?) ORDER BY rowid LIMIT ?) "
                    "RETURNING *",
                    (owner, now + lease_seconds, now, limit),
                ).fetchall()
            return [self._row_to_doc(r) for r in rows]

        return await self._store.run(run)

    async def ack_outbox(self, tenant_id: str, doc_id: str, event_ids: Sequence[str]) -> None:
        done = set(event_ids)

        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(
                    f"SELECT outbox FROM {self._table} WHERE tenant_id = ? AND id = ?",
                    (tenant_id, doc_id),
                ).fetchone()
                if row is not None:
                    left = [e for e in json.loads(row["outbox"]) if str(e.get("event_id")) not in done]
                    conn.execute(
                        f"UPDATE {self._table} SET outbox = ?, outbox_pending = ?, "
                        "outbox_owner = NULL, outbox_until = NULL WHERE tenant_id = ? AND id = ?",
                        (json.dumps(left, default=str), int(bool(left)), tenant_id, doc_id),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        await self._store.run(run)

    # ---- timers -------------------------------------------------------------------------
    def _require_due(self) -> None:
        if not self.spec.due_field:
            raise StoreError(f"{self.spec.name} declares no due field")

    async def claim_due(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        self._require_due()

        def run(conn: sqlite3.Connection) -> list[Document]:
            with conn:
                rows = conn.execute(
                    f"UPDATE {self._table} SET lease_owner = ?, lease_until = ? WHERE rowid IN ("
                    f"SELECT rowid FROM {self._table} WHERE due IS NOT NULL AND due <= ? AND "
                    "(lease_until IS NULL OR lease_until < ?) ORDER BY due LIMIT ?) RETURNING *",
                    (owner, now + lease_seconds, now, now, limit),
                ).fetchall()
            return sorted((self._row_to_doc(r) for r in rows), key=self._due_of)

        return await self._store.run(run)

    def _due_of(self, doc: Document) -> float:
        assert self.spec.due_field
        return float(doc.get(self.spec.due_field) or 0.0)

    async def next_due(self, *, after: float, until: float, limit: int) -> list[Document]:
        self._require_due()

        def run(conn: sqlite3.Connection) -> list[Document]:
            rows = conn.execute(
                f"SELECT * FROM {self._table} WHERE due > ? AND due <= ? ORDER BY due LIMIT ?",
                (after, until, limit),
            ).fetchall()
            return [self._row_to_doc(r) for r in rows]

        return await self._store.run(run)

    async def count_due(self, *, now: float) -> tuple[int, float | None]:
        self._require_due()

        def run(conn: sqlite3.Connection) -> tuple[int, float | None]:
            row = conn.execute(
                f"SELECT count(*), min(due) FROM {self._table} WHERE due IS NOT NULL AND due <= ? "
                "AND (lease_until IS NULL OR lease_until < ?)",
                (now, now),
            ).fetchone()
            return int(row[0]), row[1]

        return await self._store.run(run)

    # ---- counters and expiry ------------------------------------------------------------
    async def increment(
        self,
        tenant_id: str,
        doc_id: str,
        counters: Mapping[str, float],
        *,
        set_on_insert: Mapping[str, Any] | None = None,
    ) -> None:
        if not counters:
            return
        initial = {**(set_on_insert or {}), **counters}
        body = self._body(initial)
        sets = ", ".join(
            f"'{_path(name)}', coalesce(json_extract(doc, '{_path(name)}'), 0) + ?"
            for name in counters
        )
        expires = initial.get(self.spec.expires_field) if self.spec.expires_field else None

        def run(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    f"INSERT INTO {self._table} (id, tenant_id, version, doc, expires) "
                    "VALUES (?, ?, 1, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET "
                    f"doc = json_set(doc, {sets})",
                    (doc_id, tenant_id, body, expires, *counters.values()),
                )

        await self._store.run(run)

    async def expire(self, *, before: float) -> int:
        if not self.spec.expires_field:
            raise StoreError(f"{self.spec.name} declares no expiry field")

        def run(conn: sqlite3.Connection) -> int:
            with conn:
                cur = conn.execute(
                    f"DELETE FROM {self._table} WHERE expires IS NOT NULL AND expires < ?",
                    (before,),
                )
            return cur.rowcount

        return await self._store.run(run)


def _lookup(doc: Document, field: str) -> Any:
    value: Any = doc
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class SqliteStore(Store):
    """One SQLite file, shared safely by every replica of a service on this machine."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One thread owns the connection: sqlite3 calls never block the event loop, and
        # statements from this process never interleave inside a transaction.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._outbox_listeners: list[Callable[[], None]] = []

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                timeout=_BUSY_TIMEOUT_MS / 1000,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            with self._lock:
                return fn(self._connect())

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the event loop) whenever events are added to an outbox."""
        self._outbox_listeners.append(listener)

    def notify_outbox(self) -> None:
        for listener in self._outbox_listeners:
            listener()

    async def collection(self, spec: CollectionSpec) -> SqliteCollection:
        table = f'"{spec.name}"'

        def run(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} ("
                    "id TEXT NOT NULL, tenant_id TEXT NOT NULL, version INTEGER NOT NULL, "
                    "doc TEXT NOT NULL, outbox TEXT NOT NULL DEFAULT '[]', "
                    "outbox_pending INTEGER NOT NULL DEFAULT 0, outbox_owner TEXT, "
                    "outbox_until REAL, due REAL, lease_owner TEXT, lease_until REAL, "
                    "expires REAL, PRIMARY KEY (tenant_id, id))"
                )
                conn.execute(
                    f'CREATE INDEX IF NOT EXISTS "{spec.name}__outbox" ON {table} (outbox_pending) '
                    "WHERE outbox_pending = 1"
                )
                if spec.due_field:
                    conn.execute(
                        f'CREATE INDEX IF NOT EXISTS "{spec.name}__due" ON {table} (due) '
                        "WHERE due IS NOT NULL"
                    )
                if spec.expires_field:
                    conn.execute(
                        f'CREATE INDEX IF NOT EXISTS "{spec.name}__expires" ON {table} (expires) '
                        "WHERE expires IS NOT NULL"
                    )
                for ix in spec.indexes:
                    cols = ", ".join(_expr(c) for c in ix.columns())
                    unique = "UNIQUE " if ix.unique else ""
                    conn.execute(
                        f'CREATE {unique}INDEX IF NOT EXISTS "{spec.name}__{ix.name}" '
                        f"ON {table} ({cols})"
                    )

        await self.run(run)
        return SqliteCollection(self, spec)

    async def ping(self) -> None:
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def run() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, run)
        self._executor.shutdown(wait=True)

    def describe(self) -> str:
        return f"SQLite file {self.path}"
