"""Stopping a background task: cancel it and wait until it has finished, so nothing it
holds (a consumer, a connection) is closed under it; or first give it time to finish
what it is doing."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def finish_or_cancel(task: asyncio.Task[None], grace_seconds: float) -> None:
    """Wait up to `grace_seconds` for a task told to stop, then cancel what is left."""
    try:
        await asyncio.wait_for(asyncio.shield(task), grace_seconds)
    except TimeoutError:
        await cancel_and_wait(task)
