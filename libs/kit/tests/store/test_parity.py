"""Both adapters answer one scripted session with exactly the same documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hearth_kit.store import Query, Range, SqliteStore, Store

from .support import DAILY, DEADLINES, PEOPLE, mongomock_store


async def session(store: Store) -> list[Any]:
    people = await store.collection(PEOPLE)
    deadlines = await store.collection(DEADLINES)
    daily = await store.collection(DAILY)
    seen: list[Any] = []
    when = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    for n in range(6):
        seen.append(
            await people.insert(
                {
                    "id": f"p{n}",
                    "tenant_id": f"t{n % 2}",
                    "name": f"N{5 - n}",
                    "age": 70 + n % 3,
                    "city": "Leeds" if n % 2 else "York",
                    "active": n % 3 == 0,
                    "seen": when,
                    "address": {"line": f"{n} Road", "flat": None},
                    "scores": [n, 1.5],
                },
                events=[{"event_id": f"e{n}", "occurred_at": when}] if n % 2 else [],
            )
        )
    for tenant in ("t0", "t1"):
        seen.append(await people.find(tenant, Query(limit=2)))
        seen.append(await people.find(tenant, Query(order_by="age", descending=True, limit=2)))
        seen.append(await people.find(tenant, Query(ranges={"age": Range(gt=70)}, order_by="name")))
        seen.append(await people.find(tenant, Query(where={"active": True, "city": "York"})))
    page = await people.find("t1", Query(order_by="age", limit=2))
    seen.append(await people.find("t1", Query(order_by="age", limit=2, cursor=page.next_cursor)))
    doc = await people.get("t1", "p1")
    assert doc is not None
    seen.append(
        await people.save({**doc, "age": 99}, expected_version=1, events=[{"event_id": "x"}])
    )
    claimed = await people.claim_outbox(now=10.0, owner="r", lease_seconds=5, limit=10)
    seen.append(claimed)
    for d in claimed:
        await people.ack_outbox(d["tenant_id"], d["id"], [e["event_id"] for e in d["outbox"]][:1])
    seen.append([await people.get(f"t{n % 2}", f"p{n}") for n in range(6)])

    for n in range(4):
        await deadlines.insert({"id": f"d{n}", "tenant_id": "t0", "due_at": 100.0 + n})
    seen.append(await deadlines.claim_due(now=101.5, owner="w", lease_seconds=30, limit=5))
    seen.append(await deadlines.next_due(after=0.0, until=500.0, limit=10))
    seen.append(await deadlines.count_due(now=200.0))
    await daily.increment("t0", "day", {"n": 2, "x": 0.5}, set_on_insert={"day": when})
    await daily.increment("t0", "day", {"n": 1})
    seen.append(await daily.get("t0", "day"))
    return seen


async def test_sqlite_and_mongodb_adapters_agree(tmp_path: Path) -> None:
    sqlite = SqliteStore(tmp_path / "parity.sqlite3")
    mongo = mongomock_store()
    try:
        assert await session(sqlite) == await session(mongo)
    finally:
        await sqlite.close()
        await mongo.close()
