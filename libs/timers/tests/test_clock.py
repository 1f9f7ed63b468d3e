from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from hearth_timers import FakeClock, SystemClock, utc_datetime


async def test_fake_clock_wakes_sleepers_in_order_when_it_passes_their_time() -> None:
    clock = FakeClock(100.0)
    woken: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append(name)

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 5))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    clock.advance(4)
    await asyncio.sleep(0)
    assert woken == []
    clock.advance(1)
    await asyncio.sleep(0)
    assert woken == ["early"]
    clock.set(200.0)
    await asyncio.gather(*tasks)
    assert woken == ["early", "late"]
    assert clock.now() == 200.0


async def test_fake_clock_forgets_cancelled_sleeps_and_never_goes_back() -> None:
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    task = asyncio.create_task(clock.sleep(5))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    clock.advance(10)  # resolving a cancelled sleep must not raise
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(0)
    assert utc_datetime(clock) == datetime(2027, 1, 1, 0, 0, 10, tzinfo=UTC)


async def test_zero_sleep_returns_at_once() -> None:
    clock = FakeClock()
    await clock.sleep(0)
    await SystemClock().sleep(-1)
    assert clock.sleepers == 0
