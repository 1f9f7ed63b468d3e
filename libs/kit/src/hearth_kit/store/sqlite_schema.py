"""SQL of the SQLite adapter: the table and indexes of a collection, field expressions.

Each collection is a table: (tenant_id, id) primary key, version for compare-and-swap, the
aggregate as JSON, the outbox with its relay lease, and real columns for the due and
expiry times of timers. Declared indexes are expression indexes on the JSON fields, tenant
first, so finds by declared fields are index lookups.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hearth_kit.store.port import CollectionSpec
from hearth_kit.store.shared import check_field_name


def json_path(field: str) -> str:
    return "$." + check_field_name(field)


def sql_expr(field: str) -> str:
    """The SQL expression of a document field: a real column or a JSON extract."""
    if field in ("id", "tenant_id", "version"):
        return field
    return f"json_extract(doc, '{json_path(field)}')"


def sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def after_cursor(order: str, descending: bool, value: Any) -> tuple[str, list[Any]]:
    """The clause selecting rows after (value, id) in (order, id) order; NULLs sort first
    ascending and last descending, as on MongoDB."""
    if order == "id":
        return ("id < ?" if descending else "id > ?"), []
    if value is None:
        if descending:
            return f"({order} IS NULL AND id < ?)", []
        return f"({order} IS NOT NULL OR id > ?)", []
    if descending:
        return f"(({order}, id) < (?, ?) OR {order} IS NULL)", [sql_value(value)]
    return f"({order}, id) > (?, ?)", [sql_value(value)]


def create_schema(conn: sqlite3.Connection, spec: CollectionSpec) -> None:
    table = f'"{spec.name}"'
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
            cols = ", ".join(sql_expr(c) for c in ix.columns())
            unique = "UNIQUE " if ix.unique else ""
            conn.execute(
                f'CREATE {unique}INDEX IF NOT EXISTS "{spec.name}__{ix.name}" ON {table} ({cols})'
            )
