from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hearth_kit.store.port import Collection, CollectionSpec, Index
from hearth_kit.store.sqlite import SqliteStore
from hearth_kit.testing import eventually
from hearth_timers import FakeClock

SPEC = CollectionSpec(name="deadlines", indexes=(Index(("kind",)),), due_field="due_at")
START = 1_800_000_000.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "timers.sqlite3")
    yield s
    await s.close()


@pytest.fixture
async def deadlines(store: SqliteStore) -> Collection:
    return await store.collection(SPEC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def settle(clock: FakeClock) -> None:
    """Let a running scheduler finish its round and go back to sleep on the fake clock."""
    await eventually(lambda: clock.sleepers > 0)
