"""A resident's check-in schedule: local times on days of the week, in their own timezone.

All times are wall-clock times in the resident's IANA timezone, so "09:00" stays 09:00
for the resident across clock changes (see `occurrences` for the two odd days a year).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from hearth_checkins.domain.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
MAX_TIMES = 8
MAX_GRACE_MINUTES = 12 * 60
MAX_EARLY_MINUTES = 4 * 60
MAX_REMINDERS = 3
DEFAULT_GRACE_MINUTES = 30
DEFAULT_EARLY_MINUTES = 60
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MINUTES_PER_WEEK = 7 * 24 * 60


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def load_zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA timezone `name` (e.g. Europe/London); InvalidInput if there is none."""
    if not isinstance(name, str) or name not in _known_zones():
        raise InvalidInput(
            f"unknown timezone {name!r}; use an IANA name such as Europe/London",
            field=field,
            code="unknown_timezone",
        )
    return ZoneInfo(name)


def parse_local_time(value: str, *, field: str) -> time:
    """`HH:MM` on a 24-hour clock; anything else (24:00, 9:60, 9am) is refused."""
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{value!r} is not a time of day; use HH:MM from 00:00 to 23:59",
            field=field,
            code="invalid_time",
        )
    return time(int(match.group(1)), int(match.group(2)))


def parse_days(days: Iterable[str] | None, *, field: str) -> frozenset[int]:
    if days is None:
        return ALL_DAYS
    chosen: set[int] = set()
    for day in days:
        if day not in WEEKDAYS:
            raise InvalidInput(f"{day!r} is not a day; use {', '.join(WEEKDAYS)}", field=field)
        chosen.add(WEEKDAYS.index(day))
    if not chosen:
        raise InvalidInput("choose at least one day (or leave days out for every day)", field=field)
    return frozenset(chosen)


@dataclass(frozen=True)
class CheckInTime:
    """A check-in expected at `at` (local) on each of `days` (0 = Monday)."""

    at: time
    days: frozenset[int]

    @property
    def label(self) -> str:
        return self.at.strftime("%H:%M")

    def day_names(self) -> list[str]:
        return [WEEKDAYS[d] for d in sorted(self.days)]


@dataclass(frozen=True)
class Schedule:
    timezone: str
    times: tuple[CheckInTime, ...]
    # How long after the due time a check-in still counts before it is missed.
    grace_minutes: int = DEFAULT_GRACE_MINUTES
    # Reminders, in minutes before the deadline (due time + grace).
    reminder_minutes: tuple[int, ...] = ()
    # How long before the due time a check-in already counts for it.
    early_minutes: int = DEFAULT_EARLY_MINUTES

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def make_schedule(
    *,
    timezone: str,
    times: Sequence[tuple[str, Sequence[str] | None]],
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
    reminder_minutes_before: Sequence[int] = (),
    early_minutes: int = DEFAULT_EARLY_MINUTES,
) -> Schedule:
    """A validated schedule from plain input; InvalidInput names the field at fault as the
    client sent it (the arguments are named after the request's fields)."""
    load_zone(timezone)
    if not times:
        raise InvalidInput("a schedule needs at least one check-in time", field="times")
    if len(times) > MAX_TIMES:
        raise InvalidInput(f"at most {MAX_TIMES} check-in times", field="times")
    if not 1 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise InvalidInput(f"grace must be 1 to {MAX_GRACE_MINUTES} minutes", field="grace_minutes")
    if not 0 <= early_minutes <= MAX_EARLY_MINUTES:
        raise InvalidInput(
            f"early window must be 0 to {MAX_EARLY_MINUTES} minutes", field="early_minutes"
        )
    parsed = tuple(
        CheckInTime(
            at=parse_local_time(at, field=f"times.{i}.at"),
            days=parse_days(days, field=f"times.{i}.days"),
        )
        for i, (at, days) in enumerate(times)
    )
    _check_spacing(parsed, grace_minutes)
    asked = reminder_minutes_before
    reminders = tuple(sorted(set(asked), reverse=True))
    if len(asked) > MAX_REMINDERS or len(reminders) != len(asked):
        raise InvalidInput(
            f"at most {MAX_REMINDERS} different reminders", field="reminder_minutes_before"
        )
    window = grace_minutes + early_minutes
    for minutes in reminders:
        if not 1 <= minutes <= window:
            # A reminder earlier than the window would ask for a check-in that cannot count.
            raise InvalidInput(
                f"reminders must be 1 to {window} minutes before the deadline "
                "(grace plus early window)",
                field="reminder_minutes_before",
            )
    return Schedule(
        timezone=timezone,
        times=tuple(sorted(parsed, key=lambda t: t.at)),
        grace_minutes=grace_minutes,
        reminder_minutes=reminders,
        early_minutes=early_minutes,
    )


def _check_spacing(times: Sequence[CheckInTime], grace_minutes: int) -> None:
    """Each deadline must pass before the next check-in is due, so every check-in clearly
    belongs to one occurrence."""
    slots = sorted(day * 24 * 60 + t.at.hour * 60 + t.at.minute for t in times for day in t.days)
    if len(set(slots)) != len(slots):
        raise InvalidInput("the same check-in time is listed twice for a day", field="times")
    for i, slot in enumerate(slots):
        following = slots[(i + 1) % len(slots)] + (_MINUTES_PER_WEEK if i + 1 == len(slots) else 0)
        if len(slots) > 1 and following - slot <= grace_minutes:
            raise InvalidInput(
                f"check-in times must be more than the grace period ({grace_minutes} "
                "minutes) apart",
                field="times",
            )
