"""On-call rotas: wall-clock shifts in the council's timezone, across clock changes, and
overrides (cover, swap)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from hearth_alerts.domain.rota import Layer, Override, Rota

LONDON = "Europe/London"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def utc(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).isoformat()


def daily(users: list[str], *, name: str = "primary", hours: int = 24) -> Layer:
    return Layer(
        name=name,
        users=users,
        length_hours=hours,
        handoff_time=time(9, 0),
        start_date=date(2026, 3, 1),
    )


def test_daily_layer_hands_off_at_local_time_in_winter_and_summer() -> None:
    rota = Rota(timezone=LONDON, layers=[daily(["ann", "bob", "cat"])])
    # Winter (UTC+0): 1 March 09:00 local is 09:00Z; Ann until 2 March 09:00.
    assert rota.on_call_in("primary", ts("2026-03-01T09:00:00+00:00")).user_id == "ann"
    assert rota.on_call_in("primary", ts("2026-03-02T08:59:00+00:00")).user_id == "ann"
    assert rota.on_call_in("primary", ts("2026-03-02T09:00:00+00:00")).user_id == "bob"
    # Summer (UTC+1): handoff still 09:00 local, which is 08:00Z.
    summer = rota.on_call_in("primary", ts("2026-06-10T08:00:00+00:00"))
    assert summer is not None
    assert utc(summer.shift_start) == "2026-06-10T08:00:00+00:00"
    assert rota.on_call_in("primary", ts("2026-06-10T07:59:00+00:00")).user_id != summer.user_id


def test_shift_spanning_the_clock_change_is_an_hour_shorter() -> None:
    rota = Rota(timezone=LONDON, layers=[daily(["ann", "bob"])])
    # Clocks go forward at 01:00Z on 29 March 2026.
    shift = rota.on_call_in("primary", ts("2026-03-29T03:00:00+00:00"))
    assert shift is not None
    assert utc(shift.shift_start) == "2026-03-28T09:00:00+00:00"
    assert utc(shift.shift_end) == "2026-03-29T08:00:00+00:00"
    assert shift.shift_end - shift.shift_start == 23 * 3600


def test_layer_not_started_has_nobody() -> None:
    rota = Rota(timezone=LONDON, layers=[daily(["ann"])])
    assert rota.on_call_in("primary", ts("2026-03-01T08:59:00+00:00")) is None
    assert rota.on_call(ts("2026-02-01T12:00:00+00:00")) == []


def test_sub_day_shifts_rotate_within_the_day() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["day", "night"], hours=12)])
    assert rota.on_call_in("primary", ts("2026-03-05T10:00:00+00:00")).user_id == "day"
    assert rota.on_call_in("primary", ts("2026-03-05T22:00:00+00:00")).user_id == "night"
    assert rota.on_call_in("primary", ts("2026-03-06T08:00:00+00:00")).user_id == "night"


def test_weekly_rotation_and_several_layers() -> None:
    rota = Rota(
        timezone=LONDON,
        layers=[daily(["ann", "bob"], hours=168), daily(["mgr"], name="duty_manager")],
    )
    now = ts("2026-03-09T10:00:00+00:00")  # second week
    found = {entry.layer: entry.user_id for entry in rota.on_call(now)}
    assert found == {"primary": "bob", "duty_manager": "mgr"}


def override(kind: str, user: str, other: str | None, start: str, end: str) -> Override:
    return Override(
        id=f"{kind}-{user}",
        layer="primary",
        kind=kind,  # type: ignore[arg-type]
        user_id=user,
        with_user_id=other,
        start=ts(start),
        end=ts(end),
        created_at=0,
        created_by="admin",
    )


def test_cover_replaces_whoever_is_scheduled_while_it_lasts() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["ann", "bob"])])
    rota.add_override(
        override("cover", "zed", None, "2026-03-01T12:00:00+00:00", "2026-03-01T18:00:00+00:00"),
        now=0,
    )
    during = rota.on_call_in("primary", ts("2026-03-01T13:00:00+00:00"))
    assert (during.user_id, during.via, during.scheduled_user_id) == ("zed", "cover", "ann")
    assert rota.on_call_in("primary", ts("2026-03-01T18:00:00+00:00")).user_id == "ann"


def test_cover_for_a_named_person_only_applies_to_their_shifts() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["ann", "bob"])])
    rota.add_override(
        override("cover", "zed", "bob", "2026-03-01T00:00:00+00:00", "2026-03-04T00:00:00+00:00"),
        now=0,
    )
    assert rota.on_call_in("primary", ts("2026-03-01T12:00:00+00:00")).user_id == "ann"
    assert rota.on_call_in("primary", ts("2026-03-02T12:00:00+00:00")).user_id == "zed"


def test_swap_exchanges_two_people() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["ann", "bob"])])
    rota.add_override(
        override("swap", "ann", "bob", "2026-03-01T00:00:00+00:00", "2026-03-03T00:00:00+00:00"),
        now=0,
    )
    first = rota.on_call_in("primary", ts("2026-03-01T12:00:00+00:00"))
    assert (first.user_id, first.via) == ("bob", "swap")
    assert rota.on_call_in("primary", ts("2026-03-02T12:00:00+00:00")).user_id == "ann"
    assert rota.on_call_in("primary", ts("2026-03-03T12:00:00+00:00")).user_id == "ann"


def test_override_must_name_a_layer_of_the_rota() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["ann"])])
    bad = override("cover", "zed", None, "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00")
    bad = bad.model_copy(update={"layer": "backup"})
    with pytest.raises(ValueError, match="no layer"):
        rota.add_override(bad, now=0)


def test_old_overrides_are_dropped_when_a_new_one_is_added() -> None:
    rota = Rota(timezone="UTC", layers=[daily(["ann"])])
    old = override("cover", "old", None, "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00")
    rota.add_override(old, now=0)
    new = override("cover", "new", None, "2026-05-01T00:00:00+00:00", "2026-05-02T00:00:00+00:00")
    rota.add_override(new, now=ts("2026-04-15T00:00:00+00:00"))
    assert [o.user_id for o in rota.overrides] == ["new"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"users": []}, "at least 1"),
        ({"users": ["ann", "ann"]}, "once"),
        ({"length_hours": 5}, "divide a day"),
        ({"length_hours": 0}, "greater than or equal"),
        ({"name": "Has Space"}, "start with a letter"),
        ({"users": ["bad id!"]}, "letters, digits"),
    ],
)
def test_invalid_layers_are_refused(change: dict[str, object], reason: str) -> None:
    body = {
        "name": "primary",
        "users": ["ann"],
        "length_hours": 24,
        "handoff_time": "09:00",
        "start_date": "2026-03-01",
        **change,
    }
    with pytest.raises(ValidationError, match=reason):
        Layer.model_validate(body)


def test_unknown_timezone_and_duplicate_layers_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown timezone"):
        Rota(timezone="Mars/Olympus", layers=[])
    with pytest.raises(ValidationError, match="unique"):
        Rota(timezone="UTC", layers=[daily(["a"]), daily(["b"])])


def test_overrides_must_end_after_they_start_and_swaps_name_two_people() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        override("cover", "z", None, "2026-03-02T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    with pytest.raises(ValidationError, match="swap needs"):
        override("swap", "z", None, "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00")
    with pytest.raises(ValidationError, match="differ"):
        override("swap", "z", "z", "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00")
