"""Notifications: one message to one person through one channel, delivered durably.

A notification is stored before it is sent. Each attempt is recorded; a failure that
may pass is retried with exponential backoff until `max_attempts`, then it fails for
good (and the alert escalates). Times are epoch seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hearth_alerts.domain.values import AlertSource, Severity

ChannelName = Literal["webhook", "email", "sms", "console"]
CHANNELS: tuple[ChannelName, ...] = ("webhook", "email", "sms", "console")
NotificationKind = Literal["alert", "all_clear", "assigned"]
NotificationStatus = Literal["pending", "delivered", "failed", "cancelled"]
AttemptOutcome = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True)
class DeliveryResult:
    """What a channel reports for one attempt. `retryable` failures are tried again."""

    ok: bool
    detail: str
    retryable: bool = True

    @classmethod
    def delivered(cls, detail: str) -> DeliveryResult:
        return cls(True, detail, False)

    @classmethod
    def failed(cls, detail: str, *, retryable: bool = True) -> DeliveryResult:
        return cls(False, detail, retryable)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 2.0
    max_seconds: float = 120.0

    def delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th failed attempt: base, 2*base, 4*base... capped."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


class Message(BaseModel):
    """What a notification says: ids and facts, never a resident's personal details."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str
    kind: NotificationKind
    source: AlertSource
    severity: Severity
    resident_id: str | None = None
    step: int = 0
    text: str


class Notification(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    alert_id: str
    kind: NotificationKind
    step: int
    round: int
    recipient_id: str
    channel: ChannelName
    address: str
    # The signing secret of a webhook endpoint (empty for other channels).
    secret: str = ""
    message: Message
    status: NotificationStatus = "pending"
    attempts: int = 0
    max_attempts: int
    created_at: float
    # When the next attempt is due (the timer's due time); None once final.
    next_attempt_at: float | None = None
    last_error: str | None = None
    delivered_at: float | None = None
    finished_at: float | None = None

    @property
    def final(self) -> bool:
        return self.status != "pending"

    def record_attempt(
        self, result: DeliveryResult, *, now: float, retry: RetryPolicy
    ) -> AttemptOutcome:
        """Record one attempt's result and plan the next one if it may still succeed."""
        if self.final:
            raise ValueError(f"notification {self.id} is already {self.status}")
        self.attempts += 1
        if result.ok:
            self.status = "delivered"
            self.delivered_at = now
            self.finished_at = now
            self.next_attempt_at = None
            self.last_error = None
            return "delivered"
        self.last_error = result.detail[:500]
        if result.retryable and self.attempts < self.max_attempts:
            self.next_attempt_at = now + retry.delay(self.attempts)
            return "retry"
        self.status = "failed"
        self.finished_at = now
        self.next_attempt_at = None
        return "failed"

    def cancel(self, *, reason: str, now: float) -> None:
        self.status = "cancelled"
        self.last_error = reason
        self.finished_at = now
        self.next_attempt_at = None


def notification_id(
    alert_id: str, kind: str, step: int, round: int, recipient: str, channel: str, address: str
) -> str:
    """The same step, person and address always give the same id, so a step fired twice
    (a retry after a crash, or two replicas) stores each notification once."""
    raw = "\x1f".join((alert_id, kind, str(step), str(round), recipient, channel, address))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


_SOURCE_TEXT: dict[str, str] = {
    "checkin_missed": "A check-in was missed",
    "help_requested": "A resident asked for help",
    "message_flagged": "A chat message was flagged as a safeguarding concern",
    "support_unanswered": "A support chat is waiting unanswered",
}


def message_text(
    kind: NotificationKind, source: AlertSource, severity: Severity, alert_id: str
) -> str:
    what = _SOURCE_TEXT.get(source, "An alert was raised")
    if kind == "all_clear":
        return f"All clear: alert {alert_id} is resolved ({what.lower()}, since recovered)."
    if kind == "assigned":
        return f"Alert {alert_id} ({severity}) was assigned to you: {what.lower()}."
    return f"{what} ({severity}). Open Hearth to acknowledge alert {alert_id}."
