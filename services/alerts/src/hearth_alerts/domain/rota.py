"""On-call rotas: layers of people rotating on a length and a handoff time, plus overrides.

Shifts follow the council's wall clock: a layer that hands off at 09:00 does so at 09:00
local time every day, whatever the UTC offset, so the shift that spans a change to or
from summer time is an hour shorter or longer. Times in and out are epoch seconds (UTC).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hearth_alerts.domain.values import check_id, check_name

MAX_LAYERS = 10
MAX_USERS = 50
MAX_OVERRIDES = 200
MAX_LENGTH_HOURS = 24 * 56
# Overrides that ended this long ago are dropped when the rota is saved.
OVERRIDE_RETENTION_SECONDS = 30 * 24 * 3600
_DIVISORS_OF_A_DAY = (1, 2, 3, 4, 6, 8, 12)


def check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc
    return name


class Layer(BaseModel):
    """People taking turns: shift k starts at `start_date` + k * length at `handoff_time`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    users: list[str] = Field(min_length=1, max_length=MAX_USERS)
    length_hours: int = Field(ge=1, le=MAX_LENGTH_HOURS)
    handoff_time: time
    start_date: date

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, field="name")

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        for user in value:
            check_id(user, field="users")
        if len(set(value)) != len(value):
            raise ValueError("a layer lists each user once")
        return value

    @field_validator("length_hours")
    @classmethod
    def _length(cls, value: int) -> int:
        if value % 24 and value not in _DIVISORS_OF_A_DAY:
            raise ValueError("length_hours must divide a day (1,2,3,4,6,8,12) or be whole days")
        return value

    @field_validator("handoff_time")
    @classmethod
    def _handoff(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("handoff_time is a wall-clock time in the rota's timezone")
        return value.replace(second=0, microsecond=0)


class Override(BaseModel):
    """A change to one layer between `start` and `end`.

    cover: `user_id` is on call instead of whoever is scheduled (or only instead of
    `with_user_id` when given). swap: wherever `user_id` is scheduled, `with_user_id` is on
    call, and the other way round.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    layer: str
    kind: Literal["cover", "swap"]
    user_id: str
    with_user_id: str | None = None
    start: float
    end: float
    created_at: float
    created_by: str

    @model_validator(mode="after")
    def _check(self) -> Override:
        check_name(self.layer, field="layer")
        check_id(self.user_id, field="user_id")
        if self.with_user_id is not None:
            check_id(self.with_user_id, field="with_user_id")
            if self.with_user_id == self.user_id:
                raise ValueError("with_user_id must differ from user_id")
        if self.kind == "swap" and self.with_user_id is None:
            raise ValueError("a swap needs with_user_id")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > 366 * 24 * 3600:
            raise ValueError("an override lasts at most a year")
        return self

    def active(self, at: float) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class OnCall:
    """Who is on call in one layer at one moment, and why."""

    layer: str
    user_id: str
    via: Literal["rota", "cover", "swap"]
    shift_start: float
    shift_end: float
    scheduled_user_id: str


class Rota(BaseModel):
    """One council's rota. The first layer is "the on-call responder"; the others are
    named (backup, duty_manager...) and escalation steps refer to them by name."""

    model_config = ConfigDict(extra="forbid")

    timezone: str
    layers: list[Layer] = Field(default_factory=list, max_length=MAX_LAYERS)
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("layers")
    @classmethod
    def _unique_layers(cls, value: list[Layer]) -> list[Layer]:
        names = [layer.name for layer in value]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique")
        return value

    def layer(self, name: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.name == name), None)

    def primary(self) -> str | None:
        return self.layers[0].name if self.layers else None

    def add_override(self, override: Override, *, now: float) -> None:
        if self.layer(override.layer) is None:
            raise ValueError(f"the rota has no layer {override.layer!r}")
        kept = [o for o in self.overrides if o.end > now - OVERRIDE_RETENTION_SECONDS]
        if len(kept) >= MAX_OVERRIDES:
            raise ValueError(f"a rota holds at most {MAX_OVERRIDES} current overrides")
        self.overrides = [*kept, override]

    def remove_override(self, override_id: str) -> bool:
        before = len(self.overrides)
        self.overrides = [o for o in self.overrides if o.id != override_id]
        return len(self.overrides) != before

    def on_call(self, at: float) -> list[OnCall]:
        """Who is on call in every layer at `at` (layers nobody covers yet are left out)."""
        result = []
        for layer in self.layers:
            who = self.on_call_in(layer.name, at)
            if who is not None:
                result.append(who)
        return result

    def on_call_in(self, layer_name: str, at: float) -> OnCall | None:
        layer = self.layer(layer_name)
        if layer is None:
            return None
        tz = zoneinfo.ZoneInfo(self.timezone)
        shift = scheduled_shift(layer, tz, at)
        if shift is None:
            return None
        scheduled, start, end = shift
        user = scheduled
        via: Literal["rota", "cover", "swap"] = "rota"
        active = [o for o in self.overrides if o.layer == layer_name and o.active(at)]
        for override in active:
            if override.kind == "swap":
                if user == override.user_id:
                    user, via = override.with_user_id or user, "swap"
                elif user == override.with_user_id:
                    user, via = override.user_id, "swap"
        for override in active:
            if override.kind == "cover" and override.with_user_id in (None, scheduled, user):
                user, via = override.user_id, "cover"
        return OnCall(layer_name, user, via, start, end, scheduled)


def scheduled_shift(
    layer: Layer, tz: zoneinfo.ZoneInfo, at: float
) -> tuple[str, float, float] | None:
    """(scheduled user, shift start, shift end) of `layer` at `at`; None before it starts."""
    local = datetime.fromtimestamp(at, tz).replace(tzinfo=None)
    anchor = datetime.combine(layer.start_date, layer.handoff_time)
    if local < anchor:
        return None
    length = timedelta(hours=layer.length_hours)
    index = (local - anchor) // length
    start_wall = anchor + index * length
    end_wall = start_wall + length
    user = layer.users[index % len(layer.users)]
    return user, _instant(start_wall, tz), _instant(end_wall, tz)


def _instant(wall: datetime, tz: zoneinfo.ZoneInfo) -> float:
    """The instant of a wall-clock time (the earlier one when the clock goes back)."""
    return wall.replace(tzinfo=tz, fold=0).timestamp()
