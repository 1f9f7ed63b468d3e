"""Contract: atomic counters (analytics buckets) and expiry (inboxes)."""

from __future__ import annotations

import asyncio

import pytest

from hearth_kit.store import Collection, Store, StoreError

from .conftest import Backend
from .support import DAILY, INBOX, PEOPLE


@pytest.fixture
async def daily(store: Store) -> Collection:
    return await store.collection(DAILY)


async def test_increment_creates_then_adds(daily: Collection) -> None:
    await daily.increment(
        "t1",
        "2026-11-29",
        {"checkins": 1, "minutes": 2.5},
        set_on_insert={"day": "2026-11-29", "checkins": 100, "expires_at": 5000.0},
    )
    await daily.increment(
        "t1", "2026-11-29", {"checkins": 2, "misses": 1}, set_on_insert={"day": "x"}
    )
    got = await daily.get("t1", "2026-11-29")
    assert got == {
        "id": "2026-11-29",
        "tenant_id": "t1",
        "version": 1,
        "outbox": [],
        "day": "2026-11-29",
        "checkins": 3,
        "minutes": 2.5,
        "misses": 1,
        "expires_at": 5000.0,
    }


async def test_counters_are_per_tenant(daily: Collection) -> None:
    await daily.increment("t1", "today", {"n": 1})
    await daily.increment("t2", "today", {"n": 5})
    a, b = await daily.get("t1", "today"), await daily.get("t2", "today")
    assert a is not None and a["n"] == 1
    assert b is not None and b["n"] == 5


async def test_concurrent_increments_all_count(backend: Backend) -> None:
    writers = [await backend.open().collection(DAILY) for _ in range(4)]
    await asyncio.gather(
        *(writers[i % 4].increment("t1", "today", {"n": 1, "w": 0.5}) for i in range(100))
    )
    got = await writers[0].get("t1", "today")
    assert got is not None and got["n"] == 100 and got["w"] == 50.0


async def test_increment_refuses_bad_counters(daily: Collection) -> None:
    with pytest.raises(StoreError):
        await daily.increment("t1", "today", {"n": "1"})  # type: ignore[dict-item]
    with pytest.raises(StoreError):
        await daily.increment("t1", "today", {"version": 1})
    with pytest.raises(StoreError):
        await daily.increment("t1", "today", {"a b": 1})
    with pytest.raises(StoreError):
        await daily.increment("", "today", {"n": 1})
    assert await daily.get("t1", "today") is None


async def test_increment_with_nothing_to_count_writes_nothing(daily: Collection) -> None:
    await daily.increment("t1", "today", {})
    assert await daily.get("t1", "today") is None


async def test_expire_deletes_documents_past_their_time(store: Store) -> None:
    inbox = await store.collection(INBOX)
    await inbox.insert({"id": "old", "tenant_id": "t1", "expires_at": 100.0})
    await inbox.insert({"id": "edge", "tenant_id": "t2", "expires_at": 200.0})
    await inbox.insert({"id": "new", "tenant_id": "t1", "expires_at": 300.0})
    await inbox.insert({"id": "forever", "tenant_id": "t1"})
    assert await inbox.expire(before=200.0) == 1
    assert await inbox.get("t1", "old") is None
    assert await inbox.get("t2", "edge") is not None
    assert await inbox.expire(before=1000.0) == 2
    assert await inbox.get("t1", "forever") is not None
    assert await inbox.expire(before=1000.0) == 0


async def test_expire_follows_saved_expiry_times(store: Store) -> None:
    inbox = await store.collection(INBOX)
    doc = await inbox.insert({"id": "m1", "tenant_id": "t1", "expires_at": 100.0})
    await inbox.save({**doc, "expires_at": 900.0}, expected_version=1)
    assert await inbox.expire(before=500.0) == 0
    assert await inbox.get("t1", "m1") is not None


async def test_expire_reaches_counters_created_with_an_expiry(daily: Collection) -> None:
    await daily.increment("t1", "old", {"n": 1}, set_on_insert={"expires_at": 10.0})
    await daily.increment("t1", "new", {"n": 1}, set_on_insert={"expires_at": 99.0})
    assert await daily.expire(before=50.0) == 1
    assert await daily.get("t1", "old") is None and await daily.get("t1", "new") is not None


async def test_expire_needs_an_expiry_field(store: Store) -> None:
    people = await store.collection(PEOPLE)
    with pytest.raises(StoreError):
        await people.expire(before=1.0)
