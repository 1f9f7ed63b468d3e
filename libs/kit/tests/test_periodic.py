"""PeriodicTask: runs its work in rounds, survives a failing round, stops cleanly."""

from __future__ import annotations

import asyncio

import pytest

from hearth_kit.periodic import PeriodicTask


async def test_runs_rounds_until_stopped_and_survives_a_failing_round() -> None:
    rounds: list[int] = []
    three_rounds = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("one bad read")
        if len(rounds) >= 3:
            three_rounds.set()

    task = PeriodicTask("test-rounds", work, interval_seconds=0.001)
    await task.start()
    assert task.running
    await asyncio.wait_for(three_rounds.wait(), timeout=5)
    await task.stop()
    assert not task.running
    stopped_at = len(rounds)
    await asyncio.sleep(0.01)
    assert len(rounds) == stopped_at


async def test_start_twice_runs_one_loop() -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1

    async def never(_: float) -> None:
        await asyncio.Event().wait()

    task = PeriodicTask("test-once", work, interval_seconds=1, sleep=never)
    await task.start()
    await task.start()
    await asyncio.sleep(0.01)
    await task.stop()
    assert calls == 1


def test_refuses_a_non_positive_interval() -> None:
    async def work() -> None:
        return None

    with pytest.raises(ValueError, match="interval_seconds"):
        PeriodicTask("bad", work, interval_seconds=0)
