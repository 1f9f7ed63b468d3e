"""When check-ins fall due: occurrences of a schedule as instants, correct across clock changes.

Two days a year a local time is odd, and Hearth decides as a person would:

- Spring forward (Europe/London, last Sunday of March, 01:00 -> 02:00): a time in the gap
  such as 01:30 never shows on the clock. The check-in is due at the first moment that
  does: the instant the clocks jump (02:00 BST, 01:00 UTC).
- Fall back (last Sunday of October, 02:00 -> 01:00): a time such as 01:30 shows twice.
  The check-in is due at the first of the two (01:30 BST, 00:30 UTC); the deadline is
  then grace minutes of real time later, whatever the clock shows.

Deadlines and reminders are always counted in real elapsed time from the due instant.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hearth_checkins.domain.pauses import Pause, overlapping
from hearth_checkins.domain.schedule import Schedule

# How far ahead to look for the next occurrence (a pause may last up to a year).
SEARCH_DAYS = 400


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `zone` (see the module notes for odd days)."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant  # exists (if it exists twice, fold=0 is the first)
    # In a gap: find the transition, between the readings with the offsets after (fold=1)
    # and before (fold=0) the change; offsets change on whole seconds.
    low = int(naive.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    after = first.replace(fold=1).utcoffset()
    while low < high:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
            high = mid
        else:
            low = mid + 1
    return datetime.fromtimestamp(low, UTC)


@dataclass(frozen=True)
class Occurrence:
    """One expected check-in: its key (local date and time), due instant, deadline and
    reminder instants (epoch seconds)."""

    key: str
    due: float
    deadline: float
    reminders: tuple[float, ...] = ()


def occurrences_from(schedule: Schedule, start: date, days: int) -> Iterator[Occurrence]:
    """Occurrences on local dates start .. start + days - 1, in due order."""
    zone = schedule.zone
    grace = schedule.grace_minutes * 60.0
    for offset in range(days):
        day = start + timedelta(days=offset)
        found = []
        for slot in schedule.times:
            if day.weekday() not in slot.days:
                continue
            due = local_instant(day, slot.at, zone).timestamp()
            deadline = due + grace
            found.append(
                Occurrence(
                    key=f"{day.isoformat()}T{slot.label}",
                    due=due,
                    deadline=deadline,
                    reminders=tuple(deadline - m * 60.0 for m in schedule.reminder_minutes),
                )
            )
        yield from sorted(found, key=lambda o: o.due)


def next_occurrence(
    schedule: Schedule,
    pauses: Sequence[Pause],
    *,
    now: float,
    after_due: float | None = None,
) -> Occurrence | None:
    """The next occurrence a resident is expected to answer: due after `after_due` (the
    last one answered, missed or cancelled), deadline still ahead, and not touching a
    pause. Reminders already past are dropped. None if there is none within a year."""
    zone = schedule.zone
    # A deadline still ahead means a due time no earlier than now - grace.
    floor = now - schedule.grace_minutes * 60.0
    if after_due is not None:
        floor = max(floor, after_due)
    start = datetime.fromtimestamp(floor, UTC).astimezone(zone).date() - timedelta(days=1)
    for occurrence in occurrences_from(schedule, start, SEARCH_DAYS):
        if after_due is not None and occurrence.due <= after_due:
            continue
        if occurrence.deadline <= now:
            continue
        if overlapping(pauses, occurrence.due, occurrence.deadline):
            continue
        reminders = tuple(r for r in occurrence.reminders if r > now)
        return Occurrence(occurrence.key, occurrence.due, occurrence.deadline, reminders)
    return None
