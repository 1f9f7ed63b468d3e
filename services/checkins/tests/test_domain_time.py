"""Occurrences as instants: daily and weekly times, clock changes, odd timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hearth_checkins.domain import InvalidInput, make_schedule, next_occurrence
from hearth_checkins.domain.occurrences import local_instant, occurrences_from

LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ts(text: str) -> float:
    return utc(text).timestamp()


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        # An ordinary winter and summer day.
        (date(2026, 1, 15), time(9, 0), "2026-01-15T09:00"),
        (date(2026, 7, 15), time(9, 0), "2026-07-15T08:00"),
        # Spring forward 2026-03-29: 01:00 GMT becomes 02:00 BST.
        (date(2026, 3, 29), time(0, 59), "2026-03-29T00:59"),
        (date(2026, 3, 29), time(1, 0), "2026-03-29T01:00"),  # in the gap: when clocks jump
        (date(2026, 3, 29), time(1, 30), "2026-03-29T01:00"),  # in the gap: when clocks jump
        (date(2026, 3, 29), time(2, 0), "2026-03-29T01:00"),  # first real local time
        (date(2026, 3, 29), time(2, 30), "2026-03-29T01:30"),
        # Fall back 2026-10-25: 02:00 BST becomes 01:00 GMT; 01:30 happens twice.
        (date(2026, 10, 25), time(1, 30), "2026-10-25T00:30"),  # the first one (BST)
        (date(2026, 10, 25), time(2, 0), "2026-10-25T02:00"),
    ],
)
def test_local_times_in_london(day: date, at: time, expected: str) -> None:
    assert local_instant(day, at, LONDON) == utc(expected)


def test_gap_handling_in_other_zones() -> None:
    new_york = ZoneInfo("America/New_York")  # 2026-03-08 02:00 EST -> 03:00 EDT
    assert local_instant(date(2026, 3, 8), time(2, 30), new_york) == utc("2026-03-08T07:00")
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 2026-10-04 02:00 -> 02:30 (+10:30 -> +11)
    assert local_instant(date(2026, 10, 4), time(2, 15), lord_howe) == utc("2026-10-03T15:30")
    kolkata = ZoneInfo("Asia/Kolkata")  # no clock changes, a half-hour offset
    assert local_instant(date(2026, 3, 29), time(9, 0), kolkata) == utc("2026-03-29T03:30")


def test_a_daily_time_keeps_its_local_hour_across_both_changes() -> None:
    schedule = make_schedule(timezone="Europe/London", times=[("09:00", None)])
    dues = [o.due for o in occurrences_from(schedule, date(2026, 3, 28), 2)]
    assert dues == [ts("2026-03-28T09:00"), ts("2026-03-29T08:00")]  # 23 hours apart
    dues = [o.due for o in occurrences_from(schedule, date(2026, 10, 24), 2)]
    assert dues == [ts("2026-10-24T08:00"), ts("2026-10-25T09:00")]  # 25 hours apart


def test_deadline_is_real_elapsed_grace_across_the_jump() -> None:
    schedule = make_schedule(timezone="Europe/London", times=[("00:50", None)], grace_minutes=30)
    occurrence = next_occurrence(schedule, (), now=ts("2026-03-28T12:00"))
    assert occurrence is not None
    assert occurrence.key == "2026-03-29T00:50"
    assert occurrence.due == ts("2026-03-29T00:50")
    assert occurrence.deadline == ts("2026-03-29T01:20")  # the clock shows 02:20 BST


def test_spring_forward_check_in_in_the_gap_is_due_when_the_clock_jumps() -> None:
    schedule = make_schedule(
        timezone="Europe/London",
        times=[("01:30", None)],
        grace_minutes=60,
        reminder_minutes_before=[30],
    )
    occurrence = next_occurrence(schedule, (), now=ts("2026-03-28T12:00"))
    assert occurrence is not None
    assert (occurrence.key, occurrence.due) == ("2026-03-29T01:30", ts("2026-03-29T01:00"))
    assert occurrence.deadline == ts("2026-03-29T02:00")
    assert occurrence.reminders == (ts("2026-03-29T01:30"),)


def test_weekly_schedule_skips_other_days() -> None:
    schedule = make_schedule(
        timezone="Europe/London", times=[("10:00", ["mon", "thu"]), ("18:30", ["sat"])]
    )
    # Tuesday 2026-01-13 noon: next is Thursday 10:00, then Saturday 18:30, then Monday.
    now = ts("2026-01-13T12:00")
    first = next_occurrence(schedule, (), now=now)
    assert first is not None and first.key == "2026-01-15T10:00"
    second = next_occurrence(schedule, (), now=now, after_due=first.due)
    assert second is not None and second.key == "2026-01-17T18:30"
    third = next_occurrence(schedule, (), now=now, after_due=second.due)
    assert third is not None and third.key == "2026-01-19T10:00"


def test_an_occurrence_inside_its_grace_period_is_still_expected() -> None:
    schedule = make_schedule(timezone="Europe/London", times=[("09:00", None)], grace_minutes=30)
    during = next_occurrence(schedule, (), now=ts("2026-01-15T09:20"))
    assert during is not None and during.key == "2026-01-15T09:00"
    after = next_occurrence(schedule, (), now=ts("2026-01-15T09:30"))
    assert after is not None and after.key == "2026-01-16T09:00"


def test_reminders_already_past_are_dropped() -> None:
    schedule = make_schedule(
        timezone="Europe/London",
        times=[("09:00", None)],
        grace_minutes=30,
        reminder_minutes_before=[60, 15],
    )
    occurrence = next_occurrence(schedule, (), now=ts("2026-01-15T08:45"))
    assert occurrence is not None
    assert occurrence.reminders == (ts("2026-01-15T09:15"),)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timezone": "Europe/Lndon"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"times": []}, "times"),
        ({"times": [("24:00", None)]}, "times.0.at"),
        ({"times": [("09:60", None)]}, "times.0.at"),
        ({"times": [("9:00", None)]}, "times.0.at"),
        ({"times": [("09:00", ["funday"])]}, "times.0.days"),
        ({"times": [("09:00", [])]}, "times.0.days"),
        ({"times": [("09:00", None), ("09:00", ["mon"])]}, "times"),
        ({"times": [("09:00", None), ("09:20", None)], "grace_minutes": 30}, "times"),
        ({"times": [("23:50", None), ("00:10", None)], "grace_minutes": 30}, "times"),
        ({"times": [(f"{h:02}:00", None) for h in range(0, 18, 2)]}, "times"),
        ({"grace_minutes": 0}, "grace_minutes"),
        ({"grace_minutes": 721}, "grace_minutes"),
        ({"early_minutes": -1}, "early_minutes"),
        ({"reminder_minutes_before": [0]}, "reminder_minutes_before"),
        ({"reminder_minutes_before": [10, 10]}, "reminder_minutes_before"),
        ({"reminder_minutes_before": [5, 10, 15, 20]}, "reminder_minutes_before"),
        # Beyond grace 30 + early 60.
        ({"reminder_minutes_before": [91]}, "reminder_minutes_before"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"timezone": "Europe/London", "times": [("09:00", None)]}
    with pytest.raises(InvalidInput) as caught:
        make_schedule(**{**base, **kwargs})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_times_far_enough_apart_are_accepted_and_sorted() -> None:
    schedule = make_schedule(
        timezone="Europe/London", times=[("18:00", None), ("09:00", None)], grace_minutes=60
    )
    assert [t.label for t in schedule.times] == ["09:00", "18:00"]
