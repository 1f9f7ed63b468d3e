"""One collection of the SQLite adapter: a table holding each aggregate as JSON.

Columns: (tenant_id, id) primary key, version for compare-and-swap, the outbox with its
relay lease, and real columns for the due and expiry times of timers. Declared indexes are
expression indexes on the JSON fields, tenant first (see sqlite_schema.py).
Writes that read first run in `BEGIN IMMEDIATE` so concurrent processes serialise cleanly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from hearth_kit.store.shared import body_of, check_counters, check_identity, check_query, lookup
from hearth_kit.store.sqlite_schema import after_cursor, json_path, sql_expr, sql_value

if TYPE_CHECKING:
    from hearth_kit.store.sqlite import SqliteStore


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
        return json.dumps(body_of(doc), default=str)

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
            clause = " AND ".join(f"{sql_expr(c)} = ?" for c in cols)
            values = [sql_value(lookup(doc, c)) for c in cols]
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
        limit = check_query(self.spec, query)
        clauses = ["tenant_id = ?"]
        params: list[Any] = [tenant_id]
        for name, value in query.where.items():
            if value is None:
                clauses.append(f"{sql_expr(name)} IS NULL")
            else:
                clauses.append(f"{sql_expr(name)} = ?")
                params.append(sql_value(value))
        for name, rng in query.ranges.items():
            for op, bound in ((">", rng.gt), (">=", rng.gte), ("<", rng.lt), ("<=", rng.lte)):
                if bound is not None:
                    clauses.append(f"{sql_expr(name)} {op} ?")
                    params.append(sql_value(bound))
        order = sql_expr(query.order_by)
        direction = "DESC" if query.descending else "ASC"
        if query.cursor:
            value, last_id = decode_cursor(query.cursor)
            clause, values = after_cursor(order, query.descending, value)
            clauses.append(clause)
            params.extend([*values, last_id])
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
                next_cursor = encode_cursor(lookup(last, query.order_by), last["id"])
            return Page(items=docs, next_cursor=next_cursor)

        return await self._store.run(run)

    # ---- writes -------------------------------------------------------------------------
    async def insert(self, doc: Document, *, events: Sequence[Document] = ()) -> Document:
        check_identity(self.spec, doc)
        saved = {**doc, "version": 1, "outbox": list(events)}
        due, expires = self._timer_columns(saved)

        def run(conn: sqlite3.Connection) -> Document:
            try:
                with conn:
                    conn.execute(
                        f"INSERT INTO {self._table} (id, tenant_id, version, doc, outbox, "
                        "outbox_pending, due, expires) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                        (
                            saved["id"],
                            saved["tenant_id"],
                            self._body(saved),
                            json.dumps(list(events), default=str),
                            int(bool(events)),
                            due,
                            expires,
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
        check_identity(self.spec, doc)
        due, expires = self._timer_columns(doc)
        body = self._body(doc)

        # One statement: compare-and-swap on version, append the events to the stored
        # outbox ('$[#]' appends, left to right), release any timer lease.
        appends = "".join(", '$[#]', json(?)" for _ in events)
        sql = (
            f"UPDATE {self._table} SET version = version + 1, doc = ?, "
            f"outbox = json_insert(outbox{appends}), "
            "outbox_pending = json_array_length(outbox) + ? > 0, due = ?, expires = ?, "
            "lease_owner = NULL, lease_until = NULL "
            "WHERE tenant_id = ? AND id = ? AND version = ? RETURNING outbox"
        )
        params = (
            body,
            *(json.dumps(e, default=str) for e in events),
            len(events),
            due,
            expires,
            doc["tenant_id"],
            doc["id"],
            expected_version,
        )

        def run(conn: sqlite3.Connection) -> Document:
            try:
                # fetchall: run the statement to its end, so its write commits now.
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.IntegrityError as exc:
                raise self._unique_violation(conn, doc) or self._duplicate(exc) from exc
            if not rows:
                raise ConcurrencyConflict(self.spec.name, doc["id"], expected_version)
            outbox = json.loads(rows[0]["outbox"])
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
        if limit <= 0:
            return []

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
        done = {str(e) for e in event_ids}

        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(
                    f"SELECT outbox FROM {self._table} WHERE tenant_id = ? AND id = ?",
                    (tenant_id, doc_id),
                ).fetchone()
                if row is not None:
                    left = [
                        e for e in json.loads(row["outbox"]) if str(e.get("event_id")) not in done
                    ]
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
        if limit <= 0:
            return []

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
        if limit <= 0:
            return []

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
            return int(row[0]), None if row[1] is None else float(row[1])

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
        check_identity(self.spec, {"tenant_id": tenant_id, "id": doc_id})
        check_counters(self.spec, counters)
        if not counters:
            return
        initial = {**(set_on_insert or {}), **counters}
        body = self._body(initial)
        sets = ", ".join(
            f"'{json_path(name)}', coalesce(json_extract(doc, '{json_path(name)}'), 0) + ?"
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
