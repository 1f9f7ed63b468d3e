"""Specs and stand-ins shared by the store tests."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from typing import Any

import mongomock

from hearth_kit.store import CollectionSpec, Index, MongoStore

PEOPLE = CollectionSpec(
    "people",
    indexes=(
        Index(("email",), unique=True),
        Index(("city", "age")),
        Index(("age",)),
        Index(("name",)),
        Index(("active",)),
    ),
)
DEADLINES = CollectionSpec("deadlines", indexes=(Index(("resident_id",)),), due_field="due_at")
INBOX = CollectionSpec("inbox", expires_field="expires_at")
DAILY = CollectionSpec("daily", expires_field="expires_at")


# ---- mongomock behind the async API the adapter uses (test-only) ---------------------------
_jitter = random.Random(20261129)


async def _yield() -> None:
    """Let other coroutines run a varying number of steps, so that concurrent callers
    interleave in many orders (seeded: the same orders on every run)."""
    for _ in range(_jitter.randint(1, 3)):
        await asyncio.sleep(0)


class _MockCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    async def to_list(self, length: int | None = None) -> list[Any]:
        await _yield()
        return list(itertools.islice(self._cursor, length))


class MockAsyncCollection:
    """The subset of `AsyncCollection` the MongoDB adapter calls, over a mongomock
    collection. Each call yields to the event loop and then runs as one atomic mongomock
    operation, so concurrent coroutines interleave between operations as against a server.
    (`find` reads when its cursor's `to_list` runs.)"""

    _METHODS = frozenset(
        {
            "count_documents",
            "create_index",
            "delete_many",
            "delete_one",
            "find_one",
            "find_one_and_update",
            "insert_one",
            "update_many",
            "update_one",
        }
    )

    def __init__(self, coll: Any) -> None:
        self._coll = coll

    def find(self, *args: Any, **kwargs: Any) -> _MockCursor:
        return _MockCursor(self._coll.find(*args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in self._METHODS:
            raise AttributeError(f"the mongomock stand-in does not offer {name}")
        method = getattr(self._coll, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            await _yield()
            return method(*args, **kwargs)

        return call


class MockAsyncDatabase:
    def __init__(self, db: Any) -> None:
        self._db = db

    def __getitem__(self, name: str) -> MockAsyncCollection:
        return MockAsyncCollection(self._db[name])

    async def command(self, name: str) -> Any:
        await asyncio.sleep(0)
        return self._db.command(name)


class MockAsyncClient:
    def __init__(self, client: Any) -> None:
        self._client = client

    def __getitem__(self, name: str) -> MockAsyncDatabase:
        return MockAsyncDatabase(self._client[name])

    async def close(self) -> None:
        return None


def mongomock_store(client: Any | None = None, database: str = "hearth_test") -> MongoStore:
    """A MongoStore over mongomock; pass the same mongomock client to share one database."""
    mock = MockAsyncClient(client if client is not None else mongomock.MongoClient())
    return MongoStore("mongodb://mongomock.invalid:27017", database, client=mock)  # type: ignore[arg-type]
