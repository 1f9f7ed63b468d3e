"""Missed check-in deadlines: how late is `checkins.checkin.missed` after each deadline?

N residents whose deadlines fall in the same minute (spread evenly over it), in a SQLite
store, as check-ins stores them. Each deadline is acted on by the real check-ins timer
callback (`fire_deadline`: the domain decides "missed" and the state is saved with
compare-and-swap together with the event in its outbox). Lateness is the time from a
deadline until that save has committed: the event is then durable, and the outbox relay
publishes it (the relay's own speed is measured by bench_events).

Two ways of finding due deadlines run over identical copies of the same store, one after
the other, in the same run, each with `--workers` replica processes on the store file:
- the durable-timer scheduler (hearth_timers.DeadlineScheduler): a look-ahead held in
  memory, sleeping until the earliest deadline, claiming with leases;
- a naive scan: every 2 seconds, claim everything due and fire it.

Time is the real clock, shifted so that the minute of deadlines starts a few seconds
after the replicas are started (no waiting for a wall-clock minute). Every run checks,
from the store, that each resident got exactly one miss.

    uv run python -m bench.bench_deadlines [--quick] [--residents N] [--spread S]
                                          [--workers W]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from hearth_checkins.adapters.documents import state_doc
from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.adapters.repositories import STATES, open_repositories
from hearth_checkins.domain import Occurrence, ResidentCheckIns, make_schedule
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.timers import fire_deadline
from hearth_kit.store import Collection, CollectionSpec, Document, Query, SqliteStore
from hearth_timers import DeadlineScheduler

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct

TENANTS = ("council-a", "council-b", "council-c")
# The minute the deadlines fall in: 09:30 UTC (a 09:00 check-in with 30 minutes' grace).
MINUTE = 1_768_469_400.0  # 2026-01-15T09:30:00Z
LEAD = 5.0  # seconds from starting the replicas to the first deadline
NAIVE_POLL = 2.0


class ShiftedClock:
    """Real time at the real rate, shifted by a fixed offset."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass
class Result:
    name: str
    lateness: list[float]
    all_raised_after: float  # seconds from the first deadline until the last miss saved
    duplicates: int
    missing: int


# ---- the store ---------------------------------------------------------------------------
def resident_state(i: int, deadline: float) -> Document:
    schedule = make_schedule(timezone="Europe/London", times=[("09:00", None)])
    state = ResidentCheckIns(
        tenant_id=TENANTS[i % len(TENANTS)],
        resident_id=f"res-{i:06}",
        schedule=schedule,
        current=Occurrence(key="2026-01-15T09:00", due=deadline - 1800.0, deadline=deadline),
    )
    return state_doc(state)


def _insert_part(path: str, residents: int, spread: float, part: int, parts: int) -> None:
    async def insert() -> None:
        store = SqliteStore(Path(path))
        states = await store.collection(STATES)
        step = spread / residents if residents else 0.0
        mine = range(part, residents, parts)
        for first in range(0, len(mine), 1000):
            await asyncio.gather(
                *(
                    states.insert(resident_state(i, MINUTE + i * step))
                    for i in mine[first : first + 1000]
                )
            )
        await store.close()

    asyncio.run(insert())


async def build_store(path: Path, residents: int, spread: float, parts: int = 2) -> None:
    """Insert the residents through the store port, from `parts` processes at once."""
    started = time.perf_counter()
    store = SqliteStore(path)
    await store.collection(STATES)  # create the table and its indexes once
    await store.close()
    ctx = mp.get_context("spawn")
    processes = [
        ctx.Process(target=_insert_part, args=(str(path), residents, spread, part, parts))
        for part in range(parts)
    ]
    for process in processes:
        process.start()
    for process in processes:
        await asyncio.to_thread(process.join)
        if process.exitcode != 0:
            raise RuntimeError("preparing the store failed")
    print(f"  stored {residents:,} residents in {time.perf_counter() - started:.1f}s")


async def open_deps(store: SqliteStore, clock: ShiftedClock) -> CheckinsDeps:
    async def open_collection(spec: CollectionSpec, outbox: bool) -> Collection:
        return await store.collection(spec)

    return CheckinsDeps(
        repos=await open_repositories(open_collection),
        clock=clock,
        metrics=CheckinsMetrics.create(CollectorRegistry()),
    )


# ---- one replica (a process) ---------------------------------------------------------------
def replica(mode: str, path: str, offset: float, index: int, stop: MpEvent, out: Any) -> None:
    asyncio.run(_replica(mode, Path(path), offset, index, stop, out))


async def _replica(
    mode: str, path: Path, offset: float, index: int, stop: MpEvent, out: Any
) -> None:
    clock = ShiftedClock(offset)
    store = SqliteStore(path)
    deps = await open_deps(store, clock)
    lateness: list[float] = []
    saved_at: list[float] = []

    async def fire(doc: Document) -> None:
        deadline = float(doc["current"]["deadline"])
        await fire_deadline(doc, deps=deps)
        now = clock.now()
        lateness.append(now - deadline)
        saved_at.append(now)

    if mode == "scheduler":
        scheduler = DeadlineScheduler(
            deps.repos.timer_collection, fire, owner=f"bench-{index}", clock=clock
        )
        await scheduler.start()
        out.put(("ready", index))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await scheduler.stop()
    else:
        out.put(("ready", index))
        await _scan_every_two_seconds(deps.repos.timer_collection, fire, clock, stop, index)
    await store.close()
    out.put(("done", (lateness, saved_at)))


async def _scan_every_two_seconds(
    states: Collection,
    fire: Callable[[Document], Awaitable[None]],
    clock: ShiftedClock,
    stop: MpEvent,
    index: int,
) -> None:
    """Every 2 seconds (the same instants in every replica), claim and fire everything
    due at that instant."""
    while not stop.is_set():
        tick = (clock.now() // NAIVE_POLL + 1) * NAIVE_POLL
        while not stop.is_set() and clock.now() < tick:
            await asyncio.sleep(min(0.05, max(0.0, tick - clock.now())))
        while not stop.is_set():
            docs = await states.claim_due(
                now=tick, owner=f"naive-{index}", lease_seconds=60, limit=1000
            )
            if not docs:
                break
            await asyncio.gather(*(fire(doc) for doc in docs))


# ---- one run ---------------------------------------------------------------------------------
async def run(
    name: str, mode: str, path: Path, residents: int, spread: float, workers: int
) -> Result:
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    out = ctx.Queue()
    offset = (MINUTE - LEAD) - time.time()
    processes = [
        ctx.Process(target=replica, args=(mode, str(path), offset, i, stop, out))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        await asyncio.to_thread(out.get)  # ready
    clock = ShiftedClock(offset)
    if clock.now() > MINUTE:
        print(f"  warning: replicas took {clock.now() - MINUTE + LEAD:.1f}s to start")
    store = SqliteStore(path)
    states = await store.collection(STATES)
    # Done when nothing of the minute is left due (fired ones are due again tomorrow).
    give_up = MINUTE + spread + 180.0
    while clock.now() < give_up:
        await asyncio.sleep(0.2)
        if clock.now() > MINUTE + spread:
            count, _ = await states.count_due(now=MINUTE + spread + 1.0)
            if count == 0:
                break
    stop.set()
    lateness: list[float] = []
    saved_at: list[float] = []
    for _ in processes:
        _, (late, saved) = await asyncio.to_thread(out.get)
        lateness += late
        saved_at += saved
    for process in processes:
        process.join()
    result = await _verify(name, states, residents, lateness, saved_at)
    await store.close()
    return result


async def _verify(
    name: str, states: Collection, residents: int, lateness: list[float], saved_at: list[float]
) -> Result:
    """Every resident exactly one miss, read back from the outboxes in the store."""
    misses: Counter[str] = Counter()
    for tenant in TENANTS:
        cursor = None
        while True:
            page = await states.find(tenant, Query(limit=1000, cursor=cursor))
            for doc in page.items:
                for event in doc["outbox"]:
                    if event["type"] == "checkins.checkin.missed":
                        misses[doc["id"]] += 1
            cursor = page.next_cursor
            if cursor is None:
                break
    duplicates = sum(n - 1 for n in misses.values() if n > 1)
    last = max(saved_at) if saved_at else MINUTE
    return Result(name, lateness, last - MINUTE, duplicates, residents - len(misses))


# ---- report ----------------------------------------------------------------------------------
def report(results: list[Result], residents: int, spread: float, workers: int) -> None:
    rate = residents / spread if spread else float("inf")
    print(
        f"\n{residents:,} deadlines within {spread:.0f} s ({rate:,.0f}/s), one SQLite store, "
        f"{workers} replica process(es) each"
    )
    print(f"{'':24}{'p50 s':>9}{'p99 s':>9}{'max s':>9}{'mean s':>9}{'all raised':>13}  check")
    for r in results:
        ok = (
            "ok"
            if not r.duplicates and not r.missing
            else (f"{r.duplicates} duplicate(s), {r.missing} missing")
        )
        mean = statistics.fmean(r.lateness) if r.lateness else float("nan")
        print(
            f"{r.name:24}{pct(r.lateness, 50):9.3f}{pct(r.lateness, 99):9.3f}"
            f"{max(r.lateness, default=float('nan')):9.3f}{mean:9.3f}"
            f"{r.all_raised_after:11.1f} s  {ok}"
        )
    print(
        "(lateness: deadline -> miss saved with its event; all raised: seconds from the "
        f"first deadline to the last miss saved, the last deadline being at {spread:.0f} s)"
    )
    if len(results) == 2 and results[0].lateness and results[1].lateness:
        p99 = pct(results[0].lateness, 99)
        ratio = pct(results[1].lateness, 99) / max(p99, 1e-9)
        print(f"p99 lateness, 2-second scan / scheduler: {ratio:.1f}x")
        print(f"aim p99 <= 1 s: {'met' if p99 <= 1.0 else 'NOT met'} ({p99:.3f} s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 residents in 15 s")
    parser.add_argument("--residents", type=int)
    parser.add_argument("--spread", type=float, help="seconds the deadlines spread over")
    parser.add_argument("--workers", type=int, default=2, help="replica processes")
    args = parser.parse_args()
    residents = args.residents or (10_000 if args.quick else 100_000)
    spread = args.spread if args.spread is not None else (15.0 if args.quick else 60.0)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-deadlines-") as tmp:
        original = Path(tmp) / "original.sqlite3"
        print("preparing")
        await build_store(original, residents, spread)
        copies = [Path(tmp) / "scheduler.sqlite3", Path(tmp) / "naive.sqlite3"]
        for copy in copies:
            shutil.copyfile(original, copy)
        results = []
        for name, mode, copy in (
            ("look-ahead scheduler", "scheduler", copies[0]),
            (f"scan every {NAIVE_POLL:.0f} s", "naive", copies[1]),
        ):
            print(f"running: {name}")
            results.append(await run(name, mode, copy, residents, spread, args.workers))
    report(results, residents, spread, args.workers)


if __name__ == "__main__":
    asyncio.run(main())
