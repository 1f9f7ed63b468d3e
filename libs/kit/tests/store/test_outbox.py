"""Contract: the outbox inside each aggregate — claimed by one relay at a time, acked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hearth_kit.store import Collection, Store

from .conftest import Backend
from .support import PEOPLE


def event(event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "type": "people.person.changed"}


@pytest.fixture
async def people(store: Store) -> Collection:
    return await store.collection(PEOPLE)


async def test_claim_gives_documents_with_pending_events_once(people: Collection) -> None:
    await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1")])
    await people.insert({"id": "p2", "tenant_id": "t2"}, events=[event("e2"), event("e3")])
    await people.insert({"id": "p3", "tenant_id": "t1"})  # nothing to publish

    claimed = await people.claim_outbox(now=100.0, owner="relay-a", lease_seconds=10, limit=10)
    assert [(d["tenant_id"], d["id"]) for d in claimed] == [("t1", "p1"), ("t2", "p2")]
    assert claimed[1]["outbox"] == [event("e2"), event("e3")]
    assert claimed[0]["version"] == 1 and "lease_owner" not in claimed[0]

    again = await people.claim_outbox(now=105.0, owner="relay-b", lease_seconds=10, limit=10)
    assert again == []


async def test_a_dead_relays_lease_expires_and_another_retakes(people: Collection) -> None:
    await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1")])
    assert len(await people.claim_outbox(now=100.0, owner="a", lease_seconds=10, limit=10)) == 1
    assert await people.claim_outbox(now=109.0, owner="b", lease_seconds=10, limit=10) == []
    retaken = await people.claim_outbox(now=111.0, owner="b", lease_seconds=10, limit=10)
    assert [d["id"] for d in retaken] == ["p1"] and retaken[0]["outbox"] == [event("e1")]


async def test_claim_respects_the_limit(people: Collection) -> None:
    for n in range(5):
        await people.insert({"id": f"p{n}", "tenant_id": "t1"}, events=[event(f"e{n}")])
    first = await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=3)
    rest = await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=3)
    assert len(first) == 3 and len(rest) == 2
    assert {d["id"] for d in first} | {d["id"] for d in rest} == {f"p{n}" for n in range(5)}
    assert await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=0) == []


async def test_ack_removes_published_events_and_releases(people: Collection) -> None:
    await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1"), event("e2")])
    await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=10)
    await people.ack_outbox("t1", "p1", ["e1", "e2"])
    got = await people.get("t1", "p1")
    assert got is not None and got["outbox"] == [] and got["version"] == 1
    assert await people.claim_outbox(now=50.0, owner="b", lease_seconds=10, limit=10) == []


async def test_partial_ack_leaves_the_rest_claimable_at_once(people: Collection) -> None:
    await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1"), event("e2")])
    await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=10)
    await people.ack_outbox("t1", "p1", ["e1"])
    claimed = await people.claim_outbox(now=2.0, owner="b", lease_seconds=10, limit=10)
    assert [d["outbox"] for d in claimed] == [[event("e2")]]


async def test_events_appended_while_publishing_stay_pending(people: Collection) -> None:
    doc = await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1")])
    claimed = await people.claim_outbox(now=1.0, owner="a", lease_seconds=10, limit=10)
    assert [d["outbox"] for d in claimed] == [[event("e1")]]
    # The aggregate changes while the relay publishes e1.
    await people.save({**doc, "age": 5}, expected_version=1, events=[event("e2")])
    await people.ack_outbox("t1", "p1", ["e1"])
    got = await people.get("t1", "p1")
    assert got is not None and got["outbox"] == [event("e2")] and got["version"] == 2
    again = await people.claim_outbox(now=2.0, owner="b", lease_seconds=10, limit=10)
    assert [d["outbox"] for d in again] == [[event("e2")]]


async def test_ack_of_a_vanished_document_is_harmless(people: Collection) -> None:
    await people.ack_outbox("t1", "nobody", ["e1"])
    await people.insert({"id": "p1", "tenant_id": "t1"}, events=[event("e1")])
    await people.ack_outbox("t2", "p1", ["e1"])  # another council's p1: untouched
    got = await people.get("t1", "p1")
    assert got is not None and got["outbox"] == [event("e1")]


async def test_concurrent_relays_never_share_a_document(backend: Backend) -> None:
    relays = [await backend.open().collection(PEOPLE) for _ in range(4)]
    for n in range(60):
        await relays[0].insert(
            {"id": f"p{n:02d}", "tenant_id": f"t{n % 3}"}, events=[event(f"e{n}")]
        )
    taken: list[tuple[str, str]] = []

    async def relay(coll: Collection, owner: str) -> None:
        while batch := await coll.claim_outbox(now=1.0, owner=owner, lease_seconds=60, limit=7):
            taken.extend((d["tenant_id"], d["id"]) for d in batch)
            await asyncio.sleep(0)

    await asyncio.gather(*(relay(c, f"relay-{i}") for i, c in enumerate(relays)))
    assert sorted(taken) == sorted((f"t{n % 3}", f"p{n:02d}") for n in range(60))


async def test_store_wakes_outbox_listeners_on_writes_with_events(store: Store) -> None:
    people = await store.collection(PEOPLE)
    wakes: list[int] = []
    store.on_outbox(lambda: wakes.append(1))
    doc = await people.insert({"id": "p1", "tenant_id": "t1"})
    assert wakes == []
    await people.save(doc, expected_version=1, events=[event("e1")])
    await people.insert({"id": "p2", "tenant_id": "t1"}, events=[event("e2")])
    assert len(wakes) == 2
