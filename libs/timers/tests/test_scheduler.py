from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from hearth_kit.store.port import Collection, CollectionSpec, Document
from hearth_kit.store.sqlite import SqliteStore
from hearth_timers import DeadlineScheduler, FakeClock

from .conftest import START, eventually, settle


async def add(coll: Collection, doc_id: str, due: float | None, tenant: str = "t1") -> Document:
    return await coll.insert({"id": doc_id, "tenant_id": tenant, "kind": "k", "due_at": due})


class Recorder:
    """A fire callback that records what fired and clears the deadline, as a service would."""

    def __init__(self, coll: Collection, clock: FakeClock) -> None:
        self.coll = coll
        self.clock = clock
        self.fired: list[str] = []

    async def __call__(self, doc: Document) -> None:
        await self.coll.save(
            {**doc, "due_at": None, "fired_at": self.clock.now()},
            expected_version=doc["version"],
        )
        self.fired.append(doc["id"])


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, {"timer": "deadlines", **labels})
    return value or 0.0


async def test_run_once_fires_only_due_deadlines_and_records_lateness(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "past", START - 3)
    await add(deadlines, "now", START)
    await add(deadlines, "future", START + 60)
    await add(deadlines, "none", None)
    registry = CollectorRegistry()
    fire = Recorder(deadlines, clock)
    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, registry=registry)

    assert await scheduler.run_once() == 2
    assert sorted(fire.fired) == ["now", "past"]
    assert await scheduler.run_once() == 0
    stored = await deadlines.get("t1", "past")
    assert stored is not None and stored["due_at"] is None and "lease_owner" not in stored
    assert sample(registry, "hearth_timer_fired_total", outcome="fired") == 2
    assert sample(registry, "hearth_timer_lateness_seconds_count") == 2
    assert sample(registry, "hearth_timer_lateness_seconds_sum") == pytest.approx(3.0)


async def test_the_loop_fires_at_the_due_time_not_at_the_next_poll(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "a", START + 10)
    await add(deadlines, "b", START + 25)
    fire = Recorder(deadlines, clock)
    # A poll far away: only the look-ahead can make these fire on time.
    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, poll_seconds=1000)
    await scheduler.start()
    try:
        await settle(clock)
        clock.advance(9.5)
        await settle(clock)
        assert fire.fired == []
        clock.advance(0.5)
        await eventually(lambda: fire.fired == ["a"])
        await settle(clock)
        clock.set(START + 25)
        await eventually(lambda: fire.fired == ["a", "b"])
        b = await deadlines.get("t1", "b")
        assert b is not None and b["fired_at"] == START + 25
    finally:
        await scheduler.stop()
    assert not scheduler.running


async def test_wake_schedules_a_deadline_written_after_the_look_ahead_was_loaded(
    deadlines: Collection, clock: FakeClock
) -> None:
    fire = Recorder(deadlines, clock)
    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, poll_seconds=1000)
    await scheduler.start()
    try:
        await settle(clock)
        await add(deadlines, "new", START + 5)
        scheduler.wake(START + 5)
        await settle(clock)
        clock.advance(5)
        await eventually(lambda: fire.fired == ["new"])
    finally:
        await scheduler.stop()


async def test_safety_poll_finds_deadlines_written_by_other_replicas(
    deadlines: Collection, clock: FakeClock
) -> None:
    fire = Recorder(deadlines, clock)
    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, poll_seconds=1)
    await scheduler.start()
    try:
        await settle(clock)
        await add(deadlines, "elsewhere", START)  # already due; nobody woke us
        clock.advance(1)
        await eventually(lambda: fire.fired == ["elsewhere"])
    finally:
        await scheduler.stop()


async def test_a_capped_look_ahead_still_fires_every_deadline_on_time(
    deadlines: Collection, clock: FakeClock
) -> None:
    for i in range(12):
        await add(deadlines, f"d{i:02}", START + 1 + i)
    fire = Recorder(deadlines, clock)
    scheduler = DeadlineScheduler(
        deadlines, fire, clock=clock, poll_seconds=1000, lookahead_limit=3
    )
    await scheduler.start()
    try:
        for i in range(12):
            await settle(clock)
            clock.advance(1)
            await eventually(lambda i=i: len(fire.fired) == i + 1)
        assert fire.fired == [f"d{i:02}" for i in range(12)]
    finally:
        await scheduler.stop()


async def test_a_failed_firing_keeps_its_lease_and_is_retried_after_it(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "flaky", START)
    registry = CollectorRegistry()
    calls: list[int] = []
    recorder = Recorder(deadlines, clock)

    async def fire(doc: Document) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")
        await recorder(doc)

    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, registry=registry, lease_seconds=30)
    assert await scheduler.run_once() == 0
    assert sample(registry, "hearth_timer_fired_total", outcome="failed") == 1
    clock.advance(29)
    assert await scheduler.run_once() == 0 and len(calls) == 1  # still leased
    clock.advance(2)
    assert await scheduler.run_once() == 1
    assert recorder.fired == ["flaky"]


async def test_work_claimed_by_a_dead_replica_is_retaken_after_its_lease(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "orphan", START - 1)
    claimed = await deadlines.claim_due(now=START, owner="dead", lease_seconds=15, limit=10)
    assert [d["id"] for d in claimed] == ["orphan"]
    fire = Recorder(deadlines, clock)
    survivor = DeadlineScheduler(deadlines, fire, clock=clock, lease_seconds=15)
    assert await survivor.run_once() == 0
    clock.advance(15.5)
    assert await survivor.run_once() == 1
    assert fire.fired == ["orphan"]


async def test_a_write_that_wins_the_race_is_respected(
    deadlines: Collection, clock: FakeClock
) -> None:
    """A save landing between claim and firing: the firing loses; if the winner left the
    deadline due, it is claimed and fired again at once, else it is not fired at all."""
    await add(deadlines, "satisfied", START)
    await add(deadlines, "still-due", START)
    registry = CollectorRegistry()
    fired: list[str] = []
    raced: set[str] = set()

    async def fire(doc: Document) -> None:
        if doc["id"] not in raced:
            raced.add(doc["id"])
            due = None if doc["id"] == "satisfied" else doc["due_at"]
            await deadlines.save({**doc, "due_at": due}, expected_version=doc["version"])
        await deadlines.save({**doc, "due_at": None}, expected_version=doc["version"])
        fired.append(doc["id"])

    scheduler = DeadlineScheduler(deadlines, fire, clock=clock, registry=registry)
    assert await scheduler.run_once() == 1
    assert fired == ["still-due"]
    assert sample(registry, "hearth_timer_fired_total", outcome="conflict") == 2


async def test_a_callback_that_never_moves_the_deadline_cannot_spin(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "stuck", START)
    calls: list[int] = []

    async def fire(doc: Document) -> None:
        calls.append(1)
        await deadlines.save(dict(doc), expected_version=doc["version"])

    scheduler = DeadlineScheduler(deadlines, fire, clock=clock)
    assert await scheduler.run_once() == 3
    assert len(calls) == 3
    assert await scheduler.run_once() == 0  # leased until the lease expires


async def test_stop_lets_the_firing_in_flight_finish(
    deadlines: Collection, clock: FakeClock
) -> None:
    await add(deadlines, "slow", START)
    started = asyncio.Event()
    release = asyncio.Event()
    recorder = Recorder(deadlines, clock)

    async def fire(doc: Document) -> None:
        started.set()
        await release.wait()
        await recorder(doc)

    scheduler = DeadlineScheduler(deadlines, fire, clock=clock)
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert recorder.fired == ["slow"]


async def test_refuses_collections_without_a_due_field_and_bad_settings(
    store: SqliteStore, deadlines: Collection
) -> None:
    plain = await store.collection(CollectionSpec(name="plain"))

    async def fire(doc: dict[str, Any]) -> None: ...

    with pytest.raises(ValueError, match="no due field"):
        DeadlineScheduler(plain, fire)
    with pytest.raises(ValueError):
        DeadlineScheduler(deadlines, fire, lease_seconds=0)
    with pytest.raises(ValueError):
        DeadlineScheduler(deadlines, fire, batch_size=0)
