"""SQLite adapter of the store port: the embedded default (one file per service, WAL).

`SqliteStore` owns the connection and the schema; each collection is a table handled by
`SqliteCollection` (see sqlite_collection.py). The file is durable (WAL; a killed process
loses no committed write) and may be shared by every replica of a service on this machine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from hearth_kit.store.port import CollectionSpec, Store
from hearth_kit.store.sqlite_collection import SqliteCollection
from hearth_kit.store.sqlite_schema import create_schema

__all__ = ["SqliteCollection", "SqliteStore"]

T = TypeVar("T")
_BUSY_TIMEOUT_MS = 10_000


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
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=_BUSY_TIMEOUT_MS / 1000,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with this store's connection on its own thread."""

        def call() -> T:
            with self._lock:
                return fn(self._connect())

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def collection(self, spec: CollectionSpec) -> SqliteCollection:
        await self.run(lambda conn: create_schema(conn, spec))
        return SqliteCollection(self, spec)

    async def ping(self) -> None:
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def run() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, run)
        self._executor.shutdown(wait=True)

    def describe(self) -> str:
        return f"SQLite file {self.path}"
