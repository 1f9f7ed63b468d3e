"""What the alerts handlers need, passed keyword-only as `deps`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from hearth_alerts.adapters.repositories import Repositories
from hearth_alerts.channels.base import Channels
from hearth_alerts.domain.notification import RetryPolicy
from hearth_alerts.metrics import AlertMetrics
from hearth_contracts import EventData
from hearth_kit.messaging import outbox_entry
from hearth_kit.people.directory import People
from hearth_kit.people.identity import IdentityLookup
from hearth_timers import Clock

log = logging.getLogger("hearth.alerts")

PRODUCER = "alerts"


class Background:
    """Work started now and finished later (a first delivery attempt), tracked so that
    shutdown waits for it. What it does is durable already: if the process dies, the
    timers retry it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, object], *, name: str) -> None:
        task = asyncio.create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, object], name: str) -> None:
        try:
            await work
        except Exception:
            log.exception("background work %s failed; its timer will retry it", name)

    async def drain(self, grace_seconds: float = 10.0) -> None:
        tasks = list(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def __len__(self) -> int:
        return len(self._tasks)


def _ignore(_: float | None = None) -> None:
    return None


@dataclass
class AlertsDeps:
    repos: Repositories
    channels: Channels
    metrics: AlertMetrics
    clock: Clock
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How long an immediate escalation step / delivery attempt may take before its timer
    # takes over (a crash mid-way is retried after this).
    escalation_lease_seconds: float = 10.0
    attempt_lease_seconds: float = 30.0
    allow_private_webhooks: bool = False
    # Asks identity about people its events have not told alerts about yet (None: never).
    identity: IdentityLookup | None = None
    background: Background = field(default_factory=Background)
    # Tell the deadline schedulers about a due time this process has just written.
    wake_escalations: Callable[[float | None], None] = _ignore
    wake_notifications: Callable[[float | None], None] = _ignore

    @property
    def people(self) -> People:
        """People: what identity's events told alerts, else identity itself."""
        return People(self.repos.directory, self.identity)

    def now(self) -> float:
        return self.clock.now()


def event(data: EventData, *, tenant_id: str, subject: str) -> dict[str, Any]:
    """An outbox entry of an alerts event."""
    return outbox_entry(data, tenant_id=tenant_id, subject=subject, producer=PRODUCER)
