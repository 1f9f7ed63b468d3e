"""A check-in: by the resident (ok / not ok / need help, mood, note) or recorded by staff on
their behalf after a phone call or visit, always with its channel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from hearth_checkins.domain.errors import InvalidInput

CheckInStatus = Literal["ok", "not_ok", "need_help"]
Channel = Literal["app", "phone", "visit", "sms", "staff"]
STATUSES: tuple[str, ...] = get_args(CheckInStatus)
CHANNELS: tuple[str, ...] = get_args(Channel)
# Residents check in themselves through the app or by text; staff record calls and visits.
RESIDENT_CHANNELS: frozenset[str] = frozenset({"app", "sms"})
STAFF_CHANNELS: frozenset[str] = frozenset({"phone", "visit", "staff"})
MAX_NOTE = 1000
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class CheckInInput:
    """What a caller asks to record, already typed but not yet checked."""

    status: CheckInStatus
    channel: Channel
    recorded_by: str
    mood: int | None = None
    note: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CheckIn:
    id: str
    resident_id: str
    status: CheckInStatus
    channel: Channel
    recorded_by: str
    recorded_at: float
    mood: int | None = None
    note: str | None = None
    idempotency_key: str | None = None
    # The occurrence it answered (local date and time), None if none was due.
    occurrence_key: str | None = None
    # Answered after the deadline, before the deadline was acted on: it still counts.
    late: bool = False
    # Keys of missed occurrences this check-in recovered.
    recovered: tuple[str, ...] = ()

    @property
    def by_staff(self) -> bool:
        return self.recorded_by != self.resident_id


def check_input(value: CheckInInput, *, by_resident: bool) -> None:
    """Refuse what can never be recorded: unknown status or channel, a channel that does
    not fit who records it, a mood outside 1-5, an oversized note, a malformed key."""
    if value.status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    allowed = RESIDENT_CHANNELS if by_resident else STAFF_CHANNELS
    if value.channel not in allowed:
        who = "a resident checking in" if by_resident else "staff recording a check-in"
        raise InvalidInput(
            f"channel for {who} must be one of {', '.join(sorted(allowed))}", field="channel"
        )
    if value.mood is not None and (isinstance(value.mood, bool) or not 1 <= value.mood <= 5):
        raise InvalidInput("mood must be from 1 to 5", field="mood")
    if value.note is not None and len(value.note) > MAX_NOTE:
        raise InvalidInput(f"the note is over {MAX_NOTE} characters", field="note")
    if value.idempotency_key is not None and not _KEY.match(value.idempotency_key):
        raise InvalidInput(
            "Idempotency-Key must be 1-128 letters, digits or . _ : -", field="Idempotency-Key"
        )
