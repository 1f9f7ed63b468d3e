"""Events published by the alerts service (version 1)."""

from __future__ import annotations

from typing import Literal

from hearth_contracts.envelope import EventData

Severity = Literal["low", "medium", "high", "critical"]
AlertSource = Literal["checkin_missed", "help_requested", "message_flagged", "support_unanswered"]
Outcome = Literal[
    "resident_fine", "visited", "emergency_services_called", "false_alarm", "recovered"
]


class AlertRaised(EventData):
    TYPE = "alerts.alert.raised"
    alert_id: str
    resident_id: str | None
    source: AlertSource
    severity: Severity


class AlertAcknowledged(EventData):
    TYPE = "alerts.alert.acknowledged"
    alert_id: str
    acknowledged_by: str
    seconds_to_acknowledge: float


class AlertEscalated(EventData):
    TYPE = "alerts.alert.escalated"
    alert_id: str
    step: int
    target_user_ids: list[str]


class AlertResolved(EventData):
    TYPE = "alerts.alert.resolved"
    alert_id: str
    outcome: Outcome
    resolved_by: str | None


class NotificationSent(EventData):
    TYPE = "alerts.notification.sent"
    alert_id: str
    notification_id: str
    channel: Literal["webhook", "email", "sms", "console"]
    recipient_id: str
    status: Literal["delivered", "failed"]
