"""Several schedulers, each with its own connection to one SQLite file (as replicas on one
machine are), fire many real short deadlines while a writer races some of them: every
deadline ends exactly once, either fired or satisfied by the racing write."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

from hearth_kit.store.port import Collection, ConcurrencyConflict, Document
from hearth_kit.store.sqlite import SqliteStore
from hearth_timers import DeadlineScheduler

from .conftest import SPEC, eventually

REPLICAS = 4
DEADLINES = 400


async def test_many_replicas_fire_each_deadline_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    stores = [SqliteStore(path) for _ in range(REPLICAS + 1)]
    collections = [await s.collection(SPEC) for s in stores]
    writer = collections[-1]
    start = time.time() + 0.5
    rng = random.Random(7)
    dues = {f"d{i:04}": start + rng.uniform(0, 1.5) for i in range(DEADLINES)}
    for doc_id, due in dues.items():
        await writer.insert({"id": doc_id, "tenant_id": f"t{int(doc_id[1:]) % 3}", "due_at": due})

    outcomes: Counter[str] = Counter()
    fired_by: dict[str, str] = {}

    def firing(coll: Collection, owner: str):  # type: ignore[no-untyped-def]
        async def fire(doc: Document) -> None:
            await coll.save(
                {**doc, "due_at": None, "ended": "fired"}, expected_version=doc["version"]
            )
            outcomes[doc["id"]] += 1
            fired_by[doc["id"]] = owner

        return fire

    schedulers = [
        DeadlineScheduler(c, firing(c, f"r{i}"), owner=f"r{i}", poll_seconds=0.5, lease_seconds=10)
        for i, c in enumerate(collections[:-1])
    ]

    async def racing_writes() -> None:
        # Every fifth deadline is "satisfied" by a write landing close to its due time.
        for doc_id in sorted(dues, key=dues.get)[::5]:  # type: ignore[arg-type]
            await asyncio.sleep(max(0.0, dues[doc_id] - time.time()))
            doc = await writer.get(f"t{int(doc_id[1:]) % 3}", doc_id)
            if doc is None or doc["due_at"] is None:
                continue
            try:
                await writer.save(
                    {**doc, "due_at": None, "ended": "satisfied"}, expected_version=doc["version"]
                )
                outcomes[doc_id] += 1
            except ConcurrencyConflict:
                pass  # the firing won

    for s in schedulers:
        await s.start()
    try:
        await racing_writes()

        async def all_ended() -> bool:
            return (
                sum(outcomes.values()) >= DEADLINES
                and (await writer.count_due(now=time.time() + 10))[0] == 0
            )

        await eventually(all_ended, within=30)
    finally:
        for s in schedulers:
            await s.stop()
        for store in stores:
            await store.close()

    assert set(outcomes) == set(dues)
    assert all(n == 1 for n in outcomes.values()), [k for k, n in outcomes.items() if n != 1]
    check = SqliteStore(path)
    try:
        coll = await check.collection(SPEC)
        ended = Counter()
        for doc_id in dues:
            doc = await coll.get(f"t{int(doc_id[1:]) % 3}", doc_id)
            assert doc is not None and doc["due_at"] is None
            ended[doc["ended"]] += 1
        assert ended["fired"] == len(fired_by)
        assert ended["fired"] + ended["satisfied"] == DEADLINES
    finally:
        await check.close()
    assert len(set(fired_by.values())) > 1  # the work really was shared
