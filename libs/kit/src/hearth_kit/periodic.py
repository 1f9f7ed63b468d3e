"""A background round of work every few seconds, started and stopped with the service.

A failing round is logged and the next one runs anyway: housekeeping and audits must not
die quietly on one bad read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hearth_kit.tasks import cancel_and_wait

logger = logging.getLogger("hearth.periodic")


class PeriodicTask:
    """Runs `work` now and then every `interval_seconds` until stopped (a `Background` for
    `ServiceRuntime.add_background`). `sleep` is injectable so tests control time."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        *,
        interval_seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be > 0")
        self.name = name
        self._work = work
        self._interval = interval_seconds
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                await self._work()
            except Exception:
                logger.exception("%s: a round failed; the next one runs as planned", self.name)
            await self._sleep(self._interval)
