"""What chat's handlers depend on, gathered once at start-up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hearth_chat.adapters.hub import Hub
from hearth_chat.adapters.metrics import ChatMetrics
from hearth_chat.adapters.repositories import Repositories
from hearth_chat.adapters.scanners import ScannerCache
from hearth_contracts import EventData
from hearth_kit.messaging import outbox_entry
from hearth_kit.people.directory import People
from hearth_kit.people.identity import IdentityLookup
from hearth_timers import Clock, utc_datetime

PRODUCER = "chat"


def _new_id() -> str:
    return uuid.uuid4().hex


def _no_wake(due: float) -> None:
    return None


async def _no_typing(tenant_id: str, conversation_id: str, user_id: str) -> None:
    return None


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 4000
    edit_window_seconds: float = 900.0
    support_target_seconds: float = 60.0


@dataclass
class ChatDeps:
    repos: Repositories
    clock: Clock
    metrics: ChatMetrics
    scanners: ScannerCache
    hub: Hub
    limits: Limits = field(default_factory=Limits)
    # Asks identity about people and circles its events have not told us about yet.
    identity: IdentityLookup | None = None
    # Tells this process's deadline scheduler about a deadline it has just written.
    wake: Callable[[float], None] = _no_wake
    # Tells other replicas someone is typing (nothing stored).
    publish_typing: Callable[[str, str, str], Awaitable[None]] = _no_typing
    new_id: Callable[[], str] = _new_id

    @property
    def people(self) -> People:
        """People and circles: what identity's events told us, else identity itself."""
        return People(self.repos.directory, self.identity)

    def now(self) -> float:
        return self.clock.now()

    def event(self, data: EventData, *, tenant_id: str, subject: str) -> dict[str, Any]:
        """An outbox entry of a chat event."""
        return outbox_entry(
            data,
            tenant_id=tenant_id,
            subject=subject,
            producer=PRODUCER,
            occurred_at=utc_datetime(self.clock),
        )
