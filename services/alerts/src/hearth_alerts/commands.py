"""Request bodies of the alerts HTTP API, validated before any handler runs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hearth_alerts.domain.alert import NOTE_MAX
from hearth_alerts.domain.escalation import (
    MAX_DELAY_SECONDS,
    MAX_STEPS,
    Step,
    urgent_by_default,
)
from hearth_alerts.domain.rota import MAX_LAYERS, Layer, check_timezone
from hearth_alerts.domain.values import AlertSource, check_id, check_name

ManualOutcome = Literal["resident_fine", "visited", "emergency_services_called", "false_alarm"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgeAlert(_Body):
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class ResolveAlert(_Body):
    outcome: ManualOutcome
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class ReassignAlert(_Body):
    user_id: str
    note: str | None = Field(default=None, max_length=NOTE_MAX)

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_id(value, field="user_id")


class PutRota(_Body):
    timezone: str
    layers: list[Layer] = Field(default_factory=list, max_length=MAX_LAYERS)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)


class CreateOverride(_Body):
    layer: str
    kind: Literal["cover", "swap"]
    user_id: str
    with_user_id: str | None = None
    start: datetime
    end: datetime

    @field_validator("layer")
    @classmethod
    def _layer(cls, value: str) -> str:
        return check_name(value, field="layer")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time with its UTC offset, e.g. 2026-12-24T18:00:00Z")
        return value


class PutPolicy(_Body):
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    repeat: int = Field(default=0, ge=0, le=10)
    repeat_delay_seconds: float = Field(default=300, ge=0, le=MAX_DELAY_SECONDS)
    urgent_sources: list[AlertSource] = Field(default_factory=urgent_by_default)
