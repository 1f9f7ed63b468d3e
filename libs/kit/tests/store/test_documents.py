"""Contract: load, insert, save (compare-and-swap), delete — scoped by tenant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from hearth_kit.store import (
    Collection,
    ConcurrencyConflict,
    DuplicateKey,
    Query,
    Store,
    StoreError,
)

from .conftest import Backend
from .support import PEOPLE


def person(pid: str, tenant: str = "t1", **fields: Any) -> dict[str, Any]:
    return {"id": pid, "tenant_id": tenant, "name": f"name-{pid}", **fields}


def event(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "type": "people.person.changed", "data": {"n": event_id}}


@pytest.fixture
async def people(store: Store) -> Collection:
    return await store.collection(PEOPLE)


async def test_insert_then_get_returns_the_document_as_stored(people: Collection) -> None:
    doc = person(
        "p1",
        email="ada@example.org",
        age=81,
        active=True,
        score=2.5,
        tags=["a", "b"],
        address={"city": "Leeds", "postcode": "LS1"},
        note=None,
    )
    inserted = await people.insert(doc)
    assert inserted == {**doc, "version": 1, "outbox": []}
    got = await people.get("t1", "p1")
    assert got == {**doc, "version": 1, "outbox": []}
    assert "_id" not in got and "lease_owner" not in got


async def test_values_come_back_in_their_json_form(people: Collection) -> None:
    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    await people.insert(person("p1", seen=when, pair=(1, 2), counts={"3": 1}))
    got = await people.get("t1", "p1")
    assert got is not None
    assert got["seen"] == str(when)
    assert got["pair"] == [1, 2]
    assert got["counts"] == {"3": 1}


async def test_every_read_and_write_is_scoped_by_tenant(people: Collection) -> None:
    await people.insert(person("p1", "t1", name="Ada", age=80))
    await people.insert(person("p1", "t2", name="Bea", age=80))
    a, b = await people.get("t1", "p1"), await people.get("t2", "p1")
    assert a is not None and a["name"] == "Ada" and a["tenant_id"] == "t1"
    assert b is not None and b["name"] == "Bea" and b["tenant_id"] == "t2"
    assert await people.get("t3", "p1") is None

    page = await people.find("t1", Query(where={"age": 80}))
    assert [(d["tenant_id"], d["name"]) for d in page.items] == [("t1", "Ada")]

    await people.save({**a, "name": "Ada L."}, expected_version=1)
    b_after = await people.get("t2", "p1")
    assert b_after is not None and b_after["name"] == "Bea" and b_after["version"] == 1

    assert await people.delete("t1", "p1") is True
    assert await people.get("t1", "p1") is None
    assert await people.get("t2", "p1") is not None
    assert await people.delete("t3", "p1") is False


async def test_ids_that_look_alike_across_tenants_do_not_collide(people: Collection) -> None:
    await people.insert(person("b:c", "a", name="first"))
    await people.insert(person("c", "a:b", name="second"))
    first, second = await people.get("a", "b:c"), await people.get("a:b", "c")
    assert first is not None and first["name"] == "first"
    assert second is not None and second["name"] == "second"


async def test_insert_with_a_taken_id_raises_duplicate_key(people: Collection) -> None:
    await people.insert(person("p1"))
    with pytest.raises(DuplicateKey) as err:
        await people.insert(person("p1", name="other"))
    assert err.value.key == ("tenant_id", "id")
    got = await people.get("t1", "p1")
    assert got is not None and got["name"] == "name-p1"


async def test_unique_keys_hold_per_tenant(people: Collection) -> None:
    await people.insert(person("p1", "t1", email="ada@example.org"))
    with pytest.raises(DuplicateKey) as err:
        await people.insert(person("p2", "t1", email="ada@example.org"))
    assert err.value.key == ("tenant_id", "email")
    assert await people.get("t1", "p2") is None
    # The same email in another council is another person.
    await people.insert(person("p2", "t2", email="ada@example.org"))
    assert await people.get("t2", "p2") is not None


async def test_documents_without_a_unique_field_are_not_constrained(people: Collection) -> None:
    await people.insert(person("p1"))
    await people.insert(person("p2"))
    assert len((await people.find("t1", Query())).items) == 2


async def test_save_breaking_a_unique_key_changes_nothing(people: Collection) -> None:
    await people.insert(person("p1", email="a@example.org"))
    bea = await people.insert(person("p2", email="b@example.org"))
    with pytest.raises(DuplicateKey) as err:
        await people.save({**bea, "email": "a@example.org"}, expected_version=1)
    assert err.value.key == ("tenant_id", "email")
    got = await people.get("t1", "p2")
    assert got is not None and got["email"] == "b@example.org" and got["version"] == 1


async def test_save_is_compare_and_swap_on_version(people: Collection) -> None:
    doc = await people.insert(person("p1", age=80))
    saved = await people.save({**doc, "age": 81}, expected_version=1)
    assert saved["version"] == 2 and saved["age"] == 81
    with pytest.raises(ConcurrencyConflict) as err:
        await people.save({**doc, "age": 99}, expected_version=1)
    assert err.value.expected_version == 1 and err.value.doc_id == "p1"
    got = await people.get("t1", "p1")
    assert got is not None and got["age"] == 81 and got["version"] == 2


async def test_save_of_a_missing_or_deleted_document_conflicts(people: Collection) -> None:
    with pytest.raises(ConcurrencyConflict):
        await people.save(person("ghost"), expected_version=1)
    doc = await people.insert(person("p1"))
    await people.delete("t1", "p1")
    with pytest.raises(ConcurrencyConflict):
        await people.save(doc, expected_version=1)
    assert await people.get("t1", "p1") is None


async def test_save_replaces_the_whole_aggregate(people: Collection) -> None:
    doc = await people.insert(person("p1", nickname="Ace", address={"city": "Leeds", "flat": 2}))
    del doc["nickname"]
    doc["address"] = {"city": "York"}
    await people.save(doc, expected_version=1)
    got = await people.get("t1", "p1")
    assert got is not None
    assert "nickname" not in got and got["address"] == {"city": "York"}


async def test_save_appends_events_and_keeps_pending_ones(people: Collection) -> None:
    doc = await people.insert(person("p1"), events=[event("e1")])
    assert doc["outbox"] == [event("e1")]
    saved = await people.save({**doc, "age": 3}, expected_version=1, events=[event("e2")])
    assert saved["outbox"] == [event("e1"), event("e2")]
    got = await people.get("t1", "p1")
    assert got is not None and got["outbox"] == [event("e1"), event("e2")]
    # A save without events keeps what is pending, whatever `outbox` the caller passes.
    await people.save({**saved, "outbox": []}, expected_version=2)
    got = await people.get("t1", "p1")
    assert got is not None and got["outbox"] == [event("e1"), event("e2")]


async def test_documents_need_a_tenant_and_an_id(people: Collection) -> None:
    with pytest.raises(StoreError):
        await people.insert({"id": "p1"})
    with pytest.raises(StoreError):
        await people.insert({"id": "", "tenant_id": "t1"})
    with pytest.raises(StoreError):
        await people.save({"tenant_id": "t1"}, expected_version=1)


async def test_concurrent_writers_lose_no_update(backend: Backend) -> None:
    collections = [await backend.open().collection(PEOPLE) for _ in range(3)]
    await collections[0].insert(person("p1", count=0))

    async def add_one(people: Collection) -> None:
        while True:
            doc = await people.get("t1", "p1")
            assert doc is not None
            try:
                await people.save(
                    {**doc, "count": doc["count"] + 1}, expected_version=doc["version"]
                )
                return
            except ConcurrencyConflict:
                await asyncio.sleep(0)

    await asyncio.gather(*(add_one(collections[i % 3]) for i in range(30)))
    got = await collections[0].get("t1", "p1")
    assert got is not None and got["count"] == 30 and got["version"] == 31
