"""Commands check-ins accepts: the validated bodies of its HTTP requests.

Every model forbids unknown fields and bounds every string and list, so bad input is
refused with a reason before any handler runs. Rules that need the domain (known
timezones, possible times of day, spacing, overlapping pauses) are checked by it, with
the field at fault named.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from hearth_checkins.domain import Channel, CheckInStatus, PauseReason
from hearth_checkins.domain.checkin import MAX_NOTE
from hearth_checkins.domain.pauses import MAX_PAUSE_NOTE

Note = Annotated[str, Field(max_length=MAX_NOTE)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckInTimeIn(Command):
    at: Annotated[str, Field(min_length=1, max_length=16, examples=["09:00"])]
    # Days of the week (mon..sun); leave out for every day.
    days: Annotated[list[str], Field(max_length=7)] | None = None


class SetSchedule(Command):
    # IANA name; defaults to the schedule's current timezone, then the council's.
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # Bounded generously: the domain explains the real limit.
    times: Annotated[list[CheckInTimeIn], Field(max_length=32)]
    grace_minutes: StrictInt = 30
    reminder_minutes_before: Annotated[list[StrictInt], Field(max_length=10)] = []
    early_minutes: StrictInt = 60


class AddPause(Command):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: PauseReason
    note: Annotated[str, Field(max_length=MAX_PAUSE_NOTE)] | None = None


class RecordCheckIn(Command):
    status: CheckInStatus
    mood: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    note: Note | None = None
    # Residents: app (default) or sms. Staff: staff (default), phone or visit.
    channel: Channel | None = None


class RequestHelp(Command):
    note: Note | None = None
    channel: Channel | None = None
