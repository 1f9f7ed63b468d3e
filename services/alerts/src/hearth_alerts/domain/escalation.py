"""Escalation policies (ordered steps, repeats) and a council's alert settings.

A step waits `delay_seconds` after the previous one fired, unacknowledged, then tells its
targets. After the last step the staff part of the policy (from the first step with a
rota or named-user target) repeats `repeat` times, `repeat_delay_seconds` apart. Urgent
sources skip the reminder steps and go to on-call at once: by default help requests,
flagged chat messages and support requests nobody answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hearth_alerts.domain.values import (
    DEFAULT_SEVERITY,
    AlertSource,
    Severity,
    check_id,
    check_name,
)

MAX_STEPS = 10
MAX_TARGETS = 10
MAX_DELAY_SECONDS = 24 * 3600
DEFAULT_POLICY_NAME = "default"
URGENT_POLICY_NAME = "urgent"

TargetType = Literal["resident", "circle", "oncall", "layer", "user"]
STAFF_TARGETS: frozenset[str] = frozenset({"oncall", "layer", "user"})


# Someone may be in danger: reminding the resident first would only delay a person
# getting there. Councils can choose otherwise (per policy, and per source in settings).
URGENT_SOURCES: tuple[AlertSource, ...] = (
    "help_requested",
    "message_flagged",
    "support_unanswered",
)


def urgent_by_default() -> list[AlertSource]:
    return list(URGENT_SOURCES)


class Target(BaseModel):
    """Who a step tells: the resident, their circle of support, the on-call responder
    (first rota layer), whoever is on call in a named layer, or one named user."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: TargetType
    layer: str | None = None
    user_id: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.type == "layer":
            if self.layer is None:
                raise ValueError("a layer target names its layer")
            check_name(self.layer, field="layer")
        elif self.layer is not None:
            raise ValueError("only a layer target names a layer")
        if self.type == "user":
            if self.user_id is None:
                raise ValueError("a user target names its user_id")
            check_id(self.user_id, field="user_id")
        elif self.user_id is not None:
            raise ValueError("only a user target names a user_id")
        return self

    @property
    def is_staff(self) -> bool:
        return self.type in STAFF_TARGETS


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_seconds: float = Field(ge=0, le=MAX_DELAY_SECONDS)
    targets: list[Target] = Field(min_length=1, max_length=MAX_TARGETS)

    @property
    def is_staff(self) -> bool:
        return any(t.is_staff for t in self.targets)


@dataclass(frozen=True)
class Position:
    """Where an alert is in its policy: the step to fire next, in which round."""

    step: int
    round: int
    delay_seconds: float


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    repeat: int = Field(default=0, ge=0, le=10)
    repeat_delay_seconds: float = Field(default=300, ge=0, le=MAX_DELAY_SECONDS)
    urgent_sources: list[AlertSource] = Field(default_factory=urgent_by_default)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, field="name")

    def repeat_from(self) -> int:
        """First step of the part that repeats: the first staff step (else the first)."""
        return next((i for i, step in enumerate(self.steps) if step.is_staff), 0)

    def start(self, source: AlertSource) -> Position:
        """Where a new alert of `source` starts; urgent sources go to staff at once."""
        if source in self.urgent_sources:
            return Position(self.repeat_from(), 0, 0.0)
        return Position(0, 0, self.steps[0].delay_seconds)

    def after(self, fired: Position) -> Position | None:
        """The position after `fired`; None when the policy is exhausted."""
        nxt = fired.step + 1
        if nxt < len(self.steps):
            return Position(nxt, fired.round, self.steps[nxt].delay_seconds)
        if fired.round < self.repeat:
            return Position(self.repeat_from(), fired.round + 1, self.repeat_delay_seconds)
        return None

    def layers_named(self) -> set[str]:
        return {t.layer for s in self.steps for t in s.targets if t.layer is not None}


def builtin_policy(name: str) -> Policy | None:
    """Policies every council has until it stores its own under the same name."""
    minute = 60.0
    if name == DEFAULT_POLICY_NAME:
        return Policy(
            name=name,
            steps=[
                Step(delay_seconds=0, targets=[Target(type="resident"), Target(type="circle")]),
                Step(delay_seconds=5 * minute, targets=[Target(type="oncall")]),
                Step(delay_seconds=5 * minute, targets=[Target(type="layer", layer="backup")]),
                Step(
                    delay_seconds=10 * minute,
                    targets=[Target(type="layer", layer="duty_manager")],
                ),
            ],
            repeat=2,
            repeat_delay_seconds=10 * minute,
        )
    if name == URGENT_POLICY_NAME:
        return Policy(
            name=name,
            steps=[
                Step(delay_seconds=0, targets=[Target(type="oncall"), Target(type="circle")]),
                Step(delay_seconds=2 * minute, targets=[Target(type="layer", layer="backup")]),
                Step(
                    delay_seconds=3 * minute,
                    targets=[Target(type="layer", layer="duty_manager")],
                ),
            ],
            repeat=3,
            repeat_delay_seconds=5 * minute,
        )
    return None


class CouncilSettings(BaseModel):
    """Per council: the severity of each source and the policy each source follows."""

    model_config = ConfigDict(extra="forbid")

    severities: dict[AlertSource, Severity] = Field(default_factory=dict)
    policies: dict[AlertSource, str] = Field(default_factory=dict)

    @field_validator("policies")
    @classmethod
    def _policy_names(cls, value: dict[AlertSource, str]) -> dict[AlertSource, str]:
        for name in value.values():
            check_name(name, field="policies")
        return value

    def severity_for(self, source: AlertSource, reported: Severity | None = None) -> Severity:
        """The council's severity for a source; a flagged message keeps the severity its
        phrase list gave it unless the council set one for flagged messages."""
        if source in self.severities:
            return self.severities[source]
        if reported is not None:
            return reported
        return DEFAULT_SEVERITY[source]

    def policy_for(self, source: AlertSource) -> str:
        if source in self.policies:
            return self.policies[source]
        return URGENT_POLICY_NAME if source in URGENT_SOURCES else DEFAULT_POLICY_NAME
