"""One contract suite, three backends: SQLite, the MongoDB adapter over mongomock, and the
MongoDB adapter over a real MongoDB (MONGODB_URL, or testcontainers with a Docker engine).

`backend.open()` gives another store on the same database, as another replica would have,
so concurrency tests run their claimers and writers through separate connections.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
from pymongo import AsyncMongoClient

from hearth_kit.store import MongoStore, SqliteStore, Store

from .support import mongomock_store


# ---- a real MongoDB, when there is one -------------------------------------------------------
@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    url = os.environ.get("MONGODB_URL")
    if url:
        yield url
        return
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:
        pytest.skip(
            "real MongoDB not available: MONGODB_URL is not set and testcontainers found no "
            f"Docker engine ({type(exc).__name__}: {exc})"
        )
    from testcontainers.community.mongodb import MongoDbContainer

    with MongoDbContainer("mongo:7.0") as container:
        yield container.get_connection_url()


# ---- backends ------------------------------------------------------------------------------
class Backend:
    """Opens stores on one fresh database of one kind."""

    def __init__(self, kind: str, open_store: Callable[[], Store]) -> None:
        self.kind = kind
        self._open_store = open_store
        self._opened: list[Store] = []

    def open(self) -> Store:
        store = self._open_store()
        self._opened.append(store)
        return store

    async def close(self) -> None:
        for store in reversed(self._opened):
            await store.close()


@pytest.fixture(params=["sqlite", "mongomock", "mongo"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    kind: str = request.param
    if kind == "sqlite":
        path = tmp_path / "store.sqlite3"
        backend = Backend(kind, lambda: SqliteStore(path))
        yield backend
        await backend.close()
    elif kind == "mongomock":
        shared = mongomock.MongoClient()
        backend = Backend(kind, lambda: mongomock_store(shared))
        yield backend
        await backend.close()
    else:
        url: str = request.getfixturevalue("mongo_url")
        database = f"hearth_test_{uuid.uuid4().hex[:12]}"
        backend = Backend(kind, lambda: MongoStore(url, database))
        yield backend
        await backend.close()
        admin: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        await admin.drop_database(database)
        await admin.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()
