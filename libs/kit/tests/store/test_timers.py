"""Contract: durable timers — due documents claimed exactly once, leases, look-ahead."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from hearth_kit.store import Collection, Store, StoreError

from .conftest import Backend
from .support import DEADLINES, PEOPLE


@pytest.fixture
async def deadlines(store: Store) -> Collection:
    coll = await store.collection(DEADLINES)
    for n, due in enumerate([300.0, 100.0, 200.0, 400.0]):
        await coll.insert({"id": f"d{n}", "tenant_id": f"t{n % 2}", "due_at": due})
    await coll.insert({"id": "never", "tenant_id": "t0"})  # no due time: never claimed
    return coll


async def test_claim_due_takes_due_documents_oldest_first(deadlines: Collection) -> None:
    claimed = await deadlines.claim_due(now=250.0, owner="w1", lease_seconds=30, limit=10)
    assert [d["id"] for d in claimed] == ["d1", "d2"]
    assert all(d["lease_owner"] == "w1" and d["lease_until"] == 280.0 for d in claimed)
    assert all(d["version"] == 1 for d in claimed)
    got = await deadlines.get("t1", "d1")
    assert got is not None and got["lease_owner"] == "w1" and got["version"] == 1


async def test_claim_due_respects_the_limit(deadlines: Collection) -> None:
    first = await deadlines.claim_due(now=1000.0, owner="w1", lease_seconds=30, limit=3)
    assert [d["id"] for d in first] == ["d1", "d2", "d0"]
    rest = await deadlines.claim_due(now=1000.0, owner="w1", lease_seconds=30, limit=3)
    assert [d["id"] for d in rest] == ["d3"]
    assert await deadlines.claim_due(now=1000.0, owner="w1", lease_seconds=30, limit=0) == []


async def test_a_leased_document_is_retaken_only_after_its_lease(deadlines: Collection) -> None:
    await deadlines.claim_due(now=150.0, owner="w1", lease_seconds=30, limit=10)
    assert await deadlines.claim_due(now=170.0, owner="w2", lease_seconds=30, limit=10) == []
    retaken = await deadlines.claim_due(now=181.0, owner="w2", lease_seconds=30, limit=10)
    assert [(d["id"], d["lease_owner"]) for d in retaken] == [("d1", "w2")]


async def test_save_clears_the_lease(deadlines: Collection) -> None:
    [doc] = await deadlines.claim_due(now=150.0, owner="w1", lease_seconds=30, limit=10)
    saved = await deadlines.save({**doc, "fired": True}, expected_version=1)
    assert "lease_owner" not in saved and "lease_until" not in saved
    got = await deadlines.get("t1", "d1")
    assert got is not None and got["fired"] is True and got["version"] == 2
    assert "lease_owner" not in got and "lease_until" not in got
    # Still due (the caller did not move it): claimable again at once.
    again = await deadlines.claim_due(now=151.0, owner="w2", lease_seconds=30, limit=10)
    assert [d["id"] for d in again] == ["d1"]


async def test_save_moving_the_due_time_reschedules(deadlines: Collection) -> None:
    [doc] = await deadlines.claim_due(now=150.0, owner="w1", lease_seconds=30, limit=10)
    await deadlines.save({**doc, "due_at": 500.0}, expected_version=1)
    early = await deadlines.claim_due(now=450.0, owner="w", lease_seconds=100, limit=9)
    assert [d["id"] for d in early] == ["d2", "d0", "d3"]
    late = await deadlines.claim_due(now=500.0, owner="w", lease_seconds=100, limit=9)
    assert [d["id"] for d in late] == ["d1"]


async def test_save_removing_the_due_time_cancels(deadlines: Collection) -> None:
    doc = await deadlines.get("t1", "d1")
    assert doc is not None
    del doc["due_at"]
    await deadlines.save(doc, expected_version=1)
    claimed = await deadlines.claim_due(now=1000.0, owner="w", lease_seconds=1, limit=10)
    assert [d["id"] for d in claimed] == ["d2", "d0", "d3"]


async def test_next_due_looks_ahead_whatever_the_lease(deadlines: Collection) -> None:
    await deadlines.claim_due(now=150.0, owner="w1", lease_seconds=30, limit=10)
    ahead = await deadlines.next_due(after=100.0, until=400.0, limit=10)
    assert [d["id"] for d in ahead] == ["d2", "d0", "d3"]
    ahead = await deadlines.next_due(after=0.0, until=300.0, limit=2)
    assert [d["id"] for d in ahead] == ["d1", "d2"]
    assert ahead[0]["lease_owner"] == "w1"


async def test_count_due_counts_unleased_due_documents(deadlines: Collection) -> None:
    assert await deadlines.count_due(now=50.0) == (0, None)
    assert await deadlines.count_due(now=300.0) == (3, 100.0)
    await deadlines.claim_due(now=150.0, owner="w1", lease_seconds=30, limit=10)
    assert await deadlines.count_due(now=170.0) == (0, None)  # d1 is leased until 180
    assert await deadlines.count_due(now=210.0) == (2, 100.0)  # d1 free again, d2 due
    assert await deadlines.count_due(now=300.0) == (3, 100.0)  # the lease ran out at 180


async def test_count_due_while_leased(deadlines: Collection) -> None:
    await deadlines.claim_due(now=250.0, owner="w1", lease_seconds=100, limit=10)
    assert await deadlines.count_due(now=300.0) == (1, 300.0)


async def test_timer_calls_need_a_due_field(store: Store) -> None:
    people = await store.collection(PEOPLE)
    with pytest.raises(StoreError):
        await people.claim_due(now=1.0, owner="w", lease_seconds=1, limit=1)
    with pytest.raises(StoreError):
        await people.next_due(after=0.0, until=1.0, limit=1)
    with pytest.raises(StoreError):
        await people.count_due(now=1.0)


async def test_concurrent_claimers_fire_each_deadline_exactly_once(backend: Backend) -> None:
    claimers = [await backend.open().collection(DEADLINES) for _ in range(4)]
    for n in range(200):
        await claimers[0].insert({"id": f"d{n:03d}", "tenant_id": f"t{n % 4}", "due_at": float(n)})
    fired: Counter[str] = Counter()

    async def claimer(coll: Collection, owner: str) -> None:
        while batch := await coll.claim_due(now=1000.0, owner=owner, lease_seconds=600, limit=25):
            for doc in batch:
                assert doc["lease_owner"] == owner
                fired[doc["id"]] += 1
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer(c, f"w{i}") for i, c in enumerate(claimers)))
    assert len(fired) == 200 and set(fired.values()) == {1}
    assert await claimers[1].count_due(now=1000.0) == (0, None)
