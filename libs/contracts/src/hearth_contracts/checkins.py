"""Events published by the check-ins service (version 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hearth_contracts.envelope import EventData

CheckInStatus = Literal["ok", "not_ok", "need_help"]
Channel = Literal["app", "phone", "visit", "sms", "staff"]


class CheckInRecorded(EventData):
    TYPE = "checkins.checkin.recorded"
    resident_id: str
    checkin_id: str
    status: CheckInStatus
    channel: Channel
    mood: int | None = Field(default=None, ge=1, le=5)
    recorded_by: str
    occurrence_due_at: datetime | None = None


class CheckInMissed(EventData):
    TYPE = "checkins.checkin.missed"
    resident_id: str
    occurrence_id: str
    due_at: datetime
    deadline_at: datetime


class CheckInRecovered(EventData):
    TYPE = "checkins.checkin.recovered"
    resident_id: str
    occurrence_id: str
    checkin_id: str


class HelpRequested(EventData):
    TYPE = "checkins.help.requested"
    resident_id: str
    request_id: str
    channel: Channel
    requested_by: str
