"""Stopping a background task: cancelled, and finished before the caller goes on."""

from __future__ import annotations

import asyncio

from hearth_kit.tasks import cancel_and_wait


async def test_a_task_is_cancelled_and_finished() -> None:
    cleaned: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.append("cleaned")

    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and cleaned == ["cleaned"]
    await cancel_and_wait(None)
