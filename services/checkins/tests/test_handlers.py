"""Handlers on a real SQLite store with a fake clock: races between a check-in and the
deadline, clock changes, several replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from checkins_testkit import NORTH, ts
from prometheus_client import CollectorRegistry

from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.adapters.repositories import open_repositories
from hearth_checkins.commands import RecordCheckIn, SetSchedule
from hearth_checkins.domain import Actor
from hearth_checkins.handlers.checkins import record_checkin
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.schedules import set_schedule
from hearth_checkins.handlers.timers import fire_deadline
from hearth_kit.store import ConcurrencyConflict, SqliteStore
from hearth_timers import DeadlineScheduler, FakeClock

RITA = Actor(user_id="rita", tenant_id=NORTH, roles=frozenset({"resident"}))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "checkins.sqlite3")
    yield s
    await s.close()


async def make_deps(store: SqliteStore, clock: FakeClock) -> CheckinsDeps:
    async def open_collection(spec, outbox):  # type: ignore[no-untyped-def]
        return await store.collection(spec)

    repos = await open_repositories(open_collection)
    return CheckinsDeps(
        repos=repos, clock=clock, metrics=CheckinsMetrics.create(CollectorRegistry())
    )


def firing(deps: CheckinsDeps):  # type: ignore[no-untyped-def]
    async def fire(doc):  # type: ignore[no-untyped-def]
        await fire_deadline(doc, deps=deps)

    return fire


async def events(deps: CheckinsDeps, resident: str = "rita") -> list[str]:
    doc = await deps.repos.states.collection.get(NORTH, resident)
    return [e["type"] for e in doc["outbox"]] if doc else []


def schedule(at: str = "09:00", grace: int = 30, tz: str = "Europe/London") -> SetSchedule:
    return SetSchedule.model_validate(
        {"timezone": tz, "times": [{"at": at}], "grace_minutes": grace}
    )


async def test_a_check_in_that_lands_after_the_claim_beats_the_firing(store: SqliteStore) -> None:
    clock = FakeClock(ts("2026-01-15T07:00"))
    deps = await make_deps(store, clock)
    await set_schedule(schedule(), "rita", actor=RITA, deps=deps)
    clock.set(ts("2026-01-15T09:30"))
    claimed = await deps.repos.timer_collection.claim_due(
        now=clock.now(), owner="replica-1", lease_seconds=30, limit=10
    )
    assert [d["id"] for d in claimed] == ["rita"]
    # The resident's check-in is saved while the timer holds its claim...
    result = await record_checkin(RecordCheckIn(status="ok"), "rita", actor=RITA, deps=deps)
    assert result.checkin.late and result.checkin.occurrence_key == "2026-01-15T09:00"
    # ...so the firing, saving from the claimed version, loses: no miss is raised.
    with pytest.raises(ConcurrencyConflict):
        await fire_deadline(claimed[0], deps=deps)
    assert await events(deps) == ["checkins.checkin.recorded"]
    # And nothing is left due for that occurrence.
    assert (await deps.repos.timer_collection.count_due(now=clock.now()))[0] == 0


async def test_a_firing_that_lands_first_makes_the_check_in_a_recovery(store: SqliteStore) -> None:
    clock = FakeClock(ts("2026-01-15T07:00"))
    deps = await make_deps(store, clock)
    await set_schedule(schedule(), "rita", actor=RITA, deps=deps)
    clock.set(ts("2026-01-15T09:30"))
    scheduler = DeadlineScheduler(
        deps.repos.timer_collection, lambda doc: fire_deadline(doc, deps=deps), clock=clock
    )
    assert await scheduler.run_once() == 1
    result = await record_checkin(RecordCheckIn(status="ok"), "rita", actor=RITA, deps=deps)
    assert result.checkin.recovered == ("2026-01-15T09:00",)
    assert await events(deps) == [
        "checkins.checkin.missed",
        "checkins.checkin.recorded",
        "checkins.checkin.recovered",
    ]


async def test_spring_forward_in_london_fires_at_real_elapsed_grace(store: SqliteStore) -> None:
    """A 01:30 check-in on 29 March 2026 (clocks jump 01:00 -> 02:00) is due when the clock
    jumps (01:00 UTC) and missed after 30 real minutes (01:30 UTC, 02:30 on the clock)."""
    clock = FakeClock(ts("2026-03-28T12:00"))
    deps = await make_deps(store, clock)
    await set_schedule(schedule("01:30"), "rita", actor=RITA, deps=deps)
    scheduler = DeadlineScheduler(
        deps.repos.timer_collection, lambda doc: fire_deadline(doc, deps=deps), clock=clock
    )
    clock.set(ts("2026-03-29T01:29:59"))
    assert await scheduler.run_once() == 0
    clock.set(ts("2026-03-29T01:30"))
    assert await scheduler.run_once() == 1
    doc = await deps.repos.states.collection.get(NORTH, "rita")
    assert doc is not None
    missed = doc["outbox"][0]["data"]
    assert (missed["due_at"], missed["deadline_at"]) == (
        "2026-03-29T01:00:00Z",
        "2026-03-29T01:30:00Z",
    )
    # The next day it is an ordinary 01:30 BST = 00:30 UTC.
    assert doc["current"]["key"] == "2026-03-30T01:30"
    assert doc["current"]["due"] == ts("2026-03-30T00:30")


async def test_fall_back_in_london_uses_the_first_0130(store: SqliteStore) -> None:
    clock = FakeClock(ts("2026-10-24T12:00"))
    deps = await make_deps(store, clock)
    await set_schedule(schedule("01:30", grace=45), "rita", actor=RITA, deps=deps)
    scheduler = DeadlineScheduler(
        deps.repos.timer_collection, lambda doc: fire_deadline(doc, deps=deps), clock=clock
    )
    clock.set(ts("2026-10-25T01:15"))  # 01:15 GMT: the clock shows 01:15 the second time
    assert await scheduler.run_once() == 1
    doc = await deps.repos.states.collection.get(NORTH, "rita")
    assert doc is not None
    assert doc["outbox"][0]["data"]["due_at"] == "2026-10-25T00:30:00Z"
    assert doc["outbox"][0]["data"]["deadline_at"] == "2026-10-25T01:15:00Z"


async def test_several_replicas_raise_each_miss_exactly_once(tmp_path: Path) -> None:
    """Three schedulers, each on its own connection to the same file, with 60 residents all
    due at once: every resident gets exactly one miss."""
    clock = FakeClock(ts("2026-01-15T07:00"))
    path = tmp_path / "shared.sqlite3"
    stores = [SqliteStore(path) for _ in range(3)]
    try:
        replicas = [await make_deps(s, clock) for s in stores]
        residents = [f"r{i:03}" for i in range(60)]
        for resident in residents:
            actor = Actor(user_id=resident, tenant_id=NORTH, roles=frozenset({"resident"}))
            await set_schedule(schedule(), resident, actor=actor, deps=replicas[0])
        schedulers = [
            DeadlineScheduler(
                d.repos.timer_collection,
                firing(d),
                clock=clock,
                batch_size=7,
            )
            for d in replicas
        ]
        clock.set(ts("2026-01-15T09:30"))
        fired = await asyncio.gather(*(s.run_once() for s in schedulers))
        assert sum(fired) == 60
        for resident in residents:
            assert await events(replicas[1], resident) == ["checkins.checkin.missed"]
    finally:
        for s in stores:
            await s.close()
