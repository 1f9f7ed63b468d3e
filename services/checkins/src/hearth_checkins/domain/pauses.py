"""Pauses: a start, an end and a reason (holiday, hospital stay) during which nothing is due
and nothing is raised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hearth_checkins.domain.errors import Conflict, InvalidInput

PauseReason = Literal["holiday", "hospital", "other"]
MAX_PAUSE_SECONDS = 366 * 24 * 3600.0
MAX_PAUSE_LEAD_SECONDS = 366 * 24 * 3600.0
MAX_PAUSE_NOTE = 500


@dataclass(frozen=True)
class Pause:
    id: str
    starts: float
    ends: float
    reason: PauseReason
    created_by: str
    note: str | None = None

    def covers(self, start: float, end: float) -> bool:
        """True if this pause touches the interval [start, end]."""
        return self.starts <= end and start < self.ends

    def is_over(self, now: float) -> bool:
        return self.ends <= now


def overlapping(pauses: Sequence[Pause], start: float, end: float) -> Pause | None:
    for pause in pauses:
        if pause.covers(start, end):
            return pause
    return None


def check_new_pause(pause: Pause, existing: Sequence[Pause], *, now: float) -> None:
    """Refuse a pause that is backwards, over already, too long or too far ahead, or that
    overlaps another pause that is not over."""
    if pause.ends <= pause.starts:
        raise InvalidInput("a pause must end after it starts", field="ends_at")
    if pause.ends <= now:
        raise InvalidInput("this pause would already be over", field="ends_at")
    if pause.ends - pause.starts > MAX_PAUSE_SECONDS:
        raise InvalidInput("a pause can last at most a year", field="ends_at")
    if pause.starts - now > MAX_PAUSE_LEAD_SECONDS:
        raise InvalidInput("a pause can start at most a year ahead", field="starts_at")
    if pause.note is not None and len(pause.note) > MAX_PAUSE_NOTE:
        raise InvalidInput(f"the note is over {MAX_PAUSE_NOTE} characters", field="note")
    for other in existing:
        if other.is_over(now):
            continue
        if pause.starts < other.ends and other.starts < pause.ends:
            raise Conflict(
                f"overlaps pause {other.id} ({other.reason}); end or shorten that one first",
                field="starts_at",
                code="pause_overlaps",
            )
