"""The kit's small writes on the port: saving at a version, merging fields into a
document, deleting by field."""

from __future__ import annotations

import asyncio

import pytest

from hearth_kit.store import (
    Collection,
    ConcurrencyConflict,
    Store,
    delete_where,
    merge_fields,
    save_versioned,
)

from .support import PEOPLE


@pytest.fixture
async def people(store: Store) -> Collection:
    return await store.collection(PEOPLE)


async def test_merge_creates_then_sets_fields(people: Collection) -> None:
    await merge_fields(people, "t1", "p1", {"name": "Rita", "age": 80})
    await merge_fields(people, "t1", "p1", {"age": 81})
    got = await people.get("t1", "p1")
    assert got is not None
    assert (got["name"], got["age"], got["version"]) == ("Rita", 81, 2)
    assert await people.get("t2", "p1") is None


async def test_merge_writes_nothing_when_nothing_changes(people: Collection) -> None:
    await merge_fields(people, "t1", "p1", {"name": "Rita"})
    await merge_fields(people, "t1", "p1", {"name": "Rita"})
    got = await people.get("t1", "p1")
    assert got is not None and got["version"] == 1


async def test_concurrent_merges_all_land(people: Collection) -> None:
    fields = [f"name{n}" for n in range(3)]
    await asyncio.gather(
        *(merge_fields(people, "t1", "p1", {"name": name}, attempts=20) for name in fields),
        merge_fields(people, "t1", "p1", {"age": 7}, attempts=20),
    )
    got = await people.get("t1", "p1")
    assert got is not None and got["age"] == 7 and got["name"] in fields


async def test_merge_gives_up_when_it_keeps_losing(people: Collection) -> None:
    await merge_fields(people, "t1", "p1", {"name": "Rita"})

    class Losing:
        spec = people.spec

        async def get(self, tenant_id: str, doc_id: str) -> object:
            return await people.get(tenant_id, doc_id)

        async def save(self, doc: object, *, expected_version: int) -> object:
            raise ConcurrencyConflict("people", "p1", expected_version)

    with pytest.raises(ConcurrencyConflict):
        await merge_fields(Losing(), "t1", "p1", {"name": "Ron"}, attempts=3)  # type: ignore[arg-type]


async def test_delete_where_removes_every_match_of_the_tenant_only(people: Collection) -> None:
    for n in range(7):
        await people.insert({"id": f"a{n}", "tenant_id": "t1", "city": "York", "age": n})
    await people.insert({"id": "b", "tenant_id": "t1", "city": "Leeds", "age": 1})
    await people.insert({"id": "c", "tenant_id": "t2", "city": "York", "age": 1})
    assert await delete_where(people, "t1", "city", "York") == 7
    assert await delete_where(people, "t1", "city", "York") == 0
    assert await people.get("t1", "b") is not None
    assert await people.get("t2", "c") is not None


async def test_save_versioned_inserts_new_then_compares_and_swaps(people: Collection) -> None:
    doc = {"id": "p1", "tenant_id": "t1", "name": "Rita"}
    assert await save_versioned(people, doc, version=0, events=[{"event_id": "e1"}]) == 1
    with pytest.raises(ConcurrencyConflict):
        await save_versioned(people, doc, version=0)  # a second "new" one lost the race
    assert await save_versioned(people, {**doc, "name": "Rita B"}, version=1) == 2
    with pytest.raises(ConcurrencyConflict):
        await save_versioned(people, doc, version=1)
    got = await people.get("t1", "p1")
    assert got is not None and got["name"] == "Rita B" and len(got["outbox"]) == 1
