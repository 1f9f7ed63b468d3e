"""The resident aggregate: answering, missing, recovering, pauses, schedule changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hearth_checkins.domain import (
    CheckInInput,
    Conflict,
    HelpNeeded,
    InvalidInput,
    Missed,
    NotFoundError,
    Pause,
    Recorded,
    Recovered,
    ReminderDue,
    ResidentCheckIns,
    make_schedule,
)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


DAILY_9 = make_schedule(
    timezone="Europe/London",
    times=[("09:00", None)],
    grace_minutes=30,
    reminder_minutes_before=[15],
)


def fresh(now: str = "2026-01-15T07:00") -> ResidentCheckIns:
    return ResidentCheckIns(tenant_id="t1", resident_id="r1").with_schedule(DAILY_9, now=ts(now))


def ok(by: str = "r1", key: str | None = None, status: str = "ok") -> CheckInInput:
    channel = "app" if by == "r1" else "phone"
    return CheckInInput(status=status, channel=channel, recorded_by=by, idempotency_key=key)  # type: ignore[arg-type]


def pause(pid: str, start: str, end: str, reason: str = "holiday") -> Pause:
    return Pause(id=pid, starts=ts(start), ends=ts(end), reason=reason, created_by="p1")  # type: ignore[arg-type]


def test_a_new_schedule_expects_the_next_occurrence_and_its_reminder() -> None:
    state = fresh()
    assert state.current is not None and state.current.key == "2026-01-15T09:00"
    assert state.next_fire_at == ts("2026-01-15T09:15")  # reminder 15 min before 09:30


def test_an_on_time_check_in_answers_and_the_deadline_raises_nothing() -> None:
    state = fresh()
    state, checkin, effects = state.check_in(ok(), checkin_id="c1", now=ts("2026-01-15T09:05"))
    assert checkin.occurrence_key == "2026-01-15T09:00" and not checkin.late
    assert [type(e) for e in effects] == [Recorded]
    assert state.last is not None and state.last.outcome == "checked_in"
    assert state.current is not None and state.current.key == "2026-01-16T09:00"
    state, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert effects == []


def test_early_check_in_counts_within_the_window_only() -> None:
    state = fresh()
    _, too_early, _ = state.check_in(ok(), checkin_id="c0", now=ts("2026-01-15T07:59"))
    assert too_early.occurrence_key is None
    _, early, _ = state.check_in(ok(), checkin_id="c1", now=ts("2026-01-15T08:00"))
    assert early.occurrence_key == "2026-01-15T09:00"


def test_a_missed_deadline_raises_exactly_one_miss_then_a_check_in_recovers_it() -> None:
    state = fresh()
    state, effects = state.on_timer(now=ts("2026-01-15T09:15"))
    assert [type(e) for e in effects] == [ReminderDue]
    assert state.next_fire_at == ts("2026-01-15T09:30")
    state, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert len(effects) == 1 and isinstance(effects[0], Missed)
    assert effects[0].occurrence.key == "2026-01-15T09:00"
    assert state.current is not None and state.current.key == "2026-01-16T09:00"
    # Firing again (a duplicate delivery of the timer) finds nothing to do.
    again, effects = state.on_timer(now=ts("2026-01-15T09:31"))
    assert effects == [] and again == state
    state, checkin, effects = state.check_in(ok(), checkin_id="c1", now=ts("2026-01-15T11:00"))
    assert checkin.occurrence_key is None and checkin.recovered == ("2026-01-15T09:00",)
    assert [type(e) for e in effects] == [Recorded, Recovered]
    # A second check-in recovers nothing more.
    _, _, effects = state.check_in(ok(), checkin_id="c2", now=ts("2026-01-15T11:05"))
    assert [type(e) for e in effects] == [Recorded]


def test_a_late_check_in_before_the_miss_is_acted_on_still_counts() -> None:
    state = fresh()
    state, checkin, effects = state.check_in(ok(), checkin_id="c1", now=ts("2026-01-15T09:31"))
    assert checkin.late and checkin.occurrence_key == "2026-01-15T09:00"
    _, effects = state.on_timer(now=ts("2026-01-15T09:31"))
    assert effects == []


def test_a_repeated_request_returns_the_first_record_and_changes_nothing() -> None:
    state = fresh()
    first_state, first, _ = state.check_in(
        ok(key="k1"), checkin_id="c1", now=ts("2026-01-15T09:01")
    )
    again_state, again, effects = first_state.check_in(
        ok(key="k1"), checkin_id="c2", now=ts("2026-01-15T09:02")
    )
    assert again == first and effects == [] and again_state == first_state
    # A different check-in for an answered occurrence is recorded but answers nothing.
    _, second, effects = first_state.check_in(
        ok(key="k2"), checkin_id="c3", now=ts("2026-01-15T09:03")
    )
    assert second.occurrence_key is None and [type(e) for e in effects] == [Recorded]


def test_need_help_answers_and_asks_for_help() -> None:
    _, checkin, effects = fresh().check_in(
        ok(status="need_help"), checkin_id="c1", now=ts("2026-01-15T09:00")
    )
    assert checkin.occurrence_key is not None
    assert [type(e) for e in effects] == [Recorded, HelpNeeded]


def test_staff_check_in_on_behalf_answers_too() -> None:
    _, checkin, _ = fresh().check_in(ok(by="staff-1"), checkin_id="c1", now=ts("2026-01-15T09:10"))
    assert checkin.by_staff and checkin.occurrence_key == "2026-01-15T09:00"


def test_after_days_of_outage_one_miss_is_raised_and_the_next_is_ahead() -> None:
    state, effects = fresh().on_timer(now=ts("2026-01-18T12:00"))
    assert [type(e) for e in effects] == [Missed]
    assert state.current is not None and state.current.key == "2026-01-19T09:00"


def test_a_pause_covering_the_expected_occurrence_cancels_it_silently() -> None:
    state = fresh().with_pause(
        pause("p1", "2026-01-15T08:00", "2026-01-17T12:00", "hospital"), now=ts("2026-01-15T08:00")
    )
    assert state.last is not None and state.last.outcome == "cancelled"
    assert state.current is not None and state.current.key == "2026-01-18T09:00"
    _, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert effects == []


def test_a_pause_starting_inside_the_grace_period_cancels_the_due_occurrence() -> None:
    state = fresh().with_pause(
        pause("p1", "2026-01-15T09:10", "2026-01-15T18:00"), now=ts("2026-01-15T09:10")
    )
    assert state.current is not None and state.current.key == "2026-01-16T09:00"


def test_a_later_pause_leaves_the_current_occurrence_and_is_skipped_after_it() -> None:
    state = fresh().with_pause(
        pause("p1", "2026-01-16T00:00", "2026-01-18T00:00"), now=ts("2026-01-15T08:00")
    )
    assert state.current is not None and state.current.key == "2026-01-15T09:00"
    state, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert [type(e) for e in effects] == [Missed]
    assert state.current is not None and state.current.key == "2026-01-18T09:00"


def test_reminders_inside_a_pause_are_not_sent() -> None:
    state = fresh().with_pause(
        pause("p1", "2026-01-15T09:14", "2026-01-15T09:16"), now=ts("2026-01-15T08:00")
    )
    # The pause touches the occurrence's window, so the whole occurrence is off.
    assert state.current is not None and state.current.key == "2026-01-16T09:00"
    late_reminder = make_schedule(
        timezone="Europe/London",
        times=[("09:00", None)],
        grace_minutes=30,
        reminder_minutes_before=[60],
    )
    state = fresh().with_schedule(late_reminder, now=ts("2026-01-15T07:00"))
    state = state.with_pause(
        pause("p2", "2026-01-15T08:00", "2026-01-15T08:45"), now=ts("2026-01-15T07:00")
    )
    assert state.next_fire_at == ts("2026-01-15T08:30")
    state, effects = state.on_timer(now=ts("2026-01-15T08:30"))
    assert effects == [] and state.next_fire_at == ts("2026-01-15T09:30")


def test_overlapping_or_impossible_pauses_are_refused() -> None:
    state = fresh().with_pause(
        pause("p1", "2026-02-01T00:00", "2026-02-10T00:00"), now=ts("2026-01-15T08:00")
    )
    now = ts("2026-01-15T08:00")
    with pytest.raises(Conflict):
        state.with_pause(pause("p2", "2026-02-09T00:00", "2026-02-12T00:00"), now=now)
    with pytest.raises(Conflict):
        state.with_pause(pause("p2", "2026-01-20T00:00", "2026-03-01T00:00"), now=now)
    with pytest.raises(InvalidInput):
        state.with_pause(pause("p2", "2026-03-02T00:00", "2026-03-01T00:00"), now=now)
    with pytest.raises(InvalidInput):
        state.with_pause(pause("p2", "2026-01-01T00:00", "2026-01-02T00:00"), now=now)
    with pytest.raises(InvalidInput):
        state.with_pause(pause("p2", "2026-03-01T00:00", "2027-03-05T00:00"), now=now)
    # Touching end to start is not an overlap.
    touching = state.with_pause(pause("p2", "2026-02-10T00:00", "2026-02-11T00:00"), now=now)
    assert [p.id for p in touching.pauses] == ["p1", "p2"]


def test_ending_a_pause_early_expects_the_next_occurrence_again() -> None:
    now = ts("2026-01-15T08:00")
    state = fresh().with_pause(pause("p1", "2026-01-15T08:00", "2026-01-25T00:00"), now=now)
    assert state.current is not None and state.current.key == "2026-01-25T09:00"
    back = state.without_pause("p1", now=ts("2026-01-16T10:00"))
    assert back.current is not None and back.current.key == "2026-01-17T09:00"
    assert back.pauses[0].ends == ts("2026-01-16T10:00")
    with pytest.raises(Conflict):
        back.without_pause("p1", now=ts("2026-01-16T11:00"))
    with pytest.raises(NotFoundError):
        back.without_pause("nope", now=ts("2026-01-16T11:00"))
    # A pause that has not started is simply dropped.
    planned = fresh().with_pause(pause("p2", "2026-02-01T00:00", "2026-02-02T00:00"), now=now)
    assert planned.without_pause("p2", now=now).pauses == ()


def test_a_schedule_change_applies_from_the_next_occurrence() -> None:
    later = make_schedule(timezone="Europe/London", times=[("10:00", None)], grace_minutes=30)
    # Not yet due: replaced by the new time today.
    state = fresh().with_schedule(later, now=ts("2026-01-15T08:00"))
    assert state.current is not None and state.current.key == "2026-01-15T10:00"
    # Already due (inside its grace period): keeps its deadline.
    state = fresh().with_schedule(later, now=ts("2026-01-15T09:10"))
    assert state.current is not None and state.current.key == "2026-01-15T09:00"
    state, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert [type(e) for e in effects] == [Missed]
    assert state.current is not None and state.current.key == "2026-01-15T10:00"


def test_re_saving_the_schedule_does_not_bring_back_an_answered_occurrence() -> None:
    state, _, _ = fresh().check_in(ok(), checkin_id="c1", now=ts("2026-01-15T09:05"))
    state = state.with_schedule(DAILY_9, now=ts("2026-01-15T09:10"))
    assert state.current is not None and state.current.key == "2026-01-16T09:00"


def test_a_deactivated_resident_has_nothing_due() -> None:
    state = fresh().deactivated()
    assert state.next_fire_at is None
    state, effects = state.on_timer(now=ts("2026-01-15T09:30"))
    assert effects == [] and state.current is None


def test_recent_check_ins_and_misses_are_bounded() -> None:
    state = fresh()
    for i in range(25):
        state, _, _ = state.check_in(
            ok(key=f"k{i}"), checkin_id=f"c{i}", now=ts("2026-01-15T12:00") + i
        )
    assert len(state.recent) == 10 and state.recent[-1].id == "c24"
    missing = replace(fresh(), unrecovered=())
    for day in range(16, 40):
        missing, _ = missing.on_timer(
            now=ts(f"2026-01-{day:02}T09:30") if day <= 31 else ts(f"2026-02-{day - 31:02}T09:30")
        )
    assert len(missing.unrecovered) == 20
