"""Stopping a background task: cancel it and wait until it has finished, so nothing it
holds (a consumer, a connection) is closed under it."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
