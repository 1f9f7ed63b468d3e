"""The alert aggregate: one incident, its escalation position and everything that happened.

Methods change the alert in place and return the event to publish with the change (the
repository stores both in one write). Times are epoch seconds.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hearth_alerts.domain.errors import Conflict
from hearth_alerts.domain.escalation import Policy, Position
from hearth_alerts.domain.values import AlertSource, Outcome, Severity
from hearth_contracts.alerts import AlertAcknowledged, AlertEscalated, AlertRaised, AlertResolved

AlertStatus = Literal["open", "acknowledged", "resolved"]
STATUSES: tuple[AlertStatus, ...] = ("open", "acknowledged", "resolved")
MAX_TIMELINE = 500
NOTE_MAX = 2000


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: float
    kind: str
    actor: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class StepRecord(BaseModel):
    """One fired step: when it was planned and fired, whom it told, how delivery went."""

    model_config = ConfigDict(extra="forbid")

    step: int
    round: int
    planned_at: float
    fired_at: float
    recipients: list[str]
    notifications: int
    delivered: int = 0
    failed: int = 0
    escalated_early: bool = False

    @property
    def settled(self) -> bool:
        return self.delivered + self.failed >= self.notifications


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    dedup_key: str
    source: AlertSource
    severity: Severity
    resident_id: str | None = None
    refs: dict[str, str] = Field(default_factory=dict)
    status: AlertStatus = "open"
    incident_at: float
    raised_at: float
    policy: Policy
    # The step to fire next (None once acknowledged, resolved or exhausted), the time it
    # is planned for, and the timer's due time (the planned time, or a short lease when
    # the step is being fired at once, so a crash mid-step is retried by the timer).
    next_step: int | None = None
    next_round: int = 0
    next_planned_at: float | None = None
    escalation_due: float | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    notified: list[str] = Field(default_factory=list)
    first_notified_at: float | None = None
    assignee: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None
    outcome: Outcome | None = None
    note: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)

    # ---- creation -------------------------------------------------------------------------
    @classmethod
    def raise_new(
        cls,
        *,
        alert_id: str,
        tenant_id: str,
        dedup_key: str,
        source: AlertSource,
        severity: Severity,
        resident_id: str | None,
        refs: dict[str, str],
        policy: Policy,
        incident_at: float,
        now: float,
        lease_seconds: float,
    ) -> tuple[Alert, AlertRaised]:
        alert = cls(
            id=alert_id,
            tenant_id=tenant_id,
            dedup_key=dedup_key,
            source=source,
            severity=severity,
            resident_id=resident_id,
            refs=refs,
            incident_at=incident_at,
            raised_at=now,
            policy=policy,
        )
        alert._plan(policy.start(source), now=now, lease_seconds=lease_seconds)
        alert.record("raised", detail={"source": source, "severity": severity, **refs}, at=now)
        event = AlertRaised(
            alert_id=alert_id, resident_id=resident_id, source=source, severity=severity
        )
        return alert, event

    # ---- escalation -----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def pending(self) -> Position | None:
        """The position waiting to fire, if the alert still escalates."""
        if not self.is_open or self.next_step is None:
            return None
        delay = self.policy.steps[self.next_step].delay_seconds
        return Position(self.next_step, self.next_round, delay)

    def fires_now(self, now: float) -> bool:
        """True when the pending step's planned time has come."""
        return self.pending() is not None and (self.next_planned_at or 0.0) <= now

    def record_step(
        self,
        position: Position,
        *,
        recipients: list[str],
        notifications: int,
        now: float,
        lease_seconds: float,
    ) -> AlertEscalated:
        """The pending step fired: it told `recipients` through `notifications` messages."""
        planned = self.next_planned_at if self.next_planned_at is not None else now
        self.steps.append(
            StepRecord(
                step=position.step,
                round=position.round,
                planned_at=planned,
                fired_at=now,
                recipients=recipients,
                notifications=notifications,
            )
        )
        for user in recipients:
            if user not in self.notified:
                self.notified.append(user)
        self.record(
            "step_fired",
            detail={
                "step": position.step,
                "round": position.round,
                "recipients": recipients,
                "notifications": notifications,
                "late_seconds": round(max(0.0, now - planned), 3),
            },
            at=now,
        )
        after = self.policy.after(position)
        if notifications == 0:
            self.record(
                "nobody_reachable",
                detail={"step": position.step, "round": position.round},
                at=now,
            )
            if after is not None and after.round == position.round:
                after = Position(after.step, after.round, 0.0)
        self._plan(after, now=now, lease_seconds=lease_seconds)
        if after is None:
            self.record("escalation_exhausted", at=now)
        return AlertEscalated(
            alert_id=self.id, step=position.step, target_user_ids=list(recipients)
        )

    def record_delivery(
        self,
        *,
        step: int,
        round: int,
        recipient_id: str,
        channel: str,
        delivered: bool,
        detail: str,
        now: float,
        lease_seconds: float,
    ) -> bool:
        """A notification of a step reached its final state. Returns True when the step
        failed to reach anyone and the alert escalates to the next step now."""
        self.record(
            "notification_delivered" if delivered else "notification_failed",
            detail={
                "step": step,
                "round": round,
                "recipient_id": recipient_id,
                "channel": channel,
                "result": detail[:300],
            },
            at=now,
        )
        record = self._step_record(step, round)
        if record is None:
            return False
        if delivered:
            record.delivered += 1
            if self.first_notified_at is None:
                self.first_notified_at = now
            return False
        record.failed += 1
        escalate = (
            self.is_open
            and record.settled
            and record.delivered == 0
            and not record.escalated_early
            and record is self.steps[-1]
            and self.next_step is not None
        )
        if escalate:
            record.escalated_early = True
            self.record("escalating_early", detail={"step": step, "round": round}, at=now)
            self.next_planned_at = now
            self.escalation_due = now + lease_seconds
        return escalate

    def _step_record(self, step: int, round: int) -> StepRecord | None:
        for record in reversed(self.steps):
            if record.step == step and record.round == round:
                return record
        return None

    def _plan(self, position: Position | None, *, now: float, lease_seconds: float) -> None:
        if position is None:
            self.next_step = None
            self.next_planned_at = None
            self.escalation_due = None
            return
        self.next_step = position.step
        self.next_round = position.round
        self.next_planned_at = now + position.delay_seconds
        # A step due now is fired at once by whoever planned it; the timer only retries it.
        self.escalation_due = (
            self.next_planned_at if position.delay_seconds > 0 else now + lease_seconds
        )

    def _stop_escalating(self) -> None:
        self.next_step = None
        self.next_planned_at = None
        self.escalation_due = None

    # ---- people acting on it --------------------------------------------------------------
    def acknowledge(self, *, by: str, now: float) -> AlertAcknowledged:
        if self.status != "open":
            raise Conflict(f"the alert is already {self.status}")
        self.status = "acknowledged"
        self.acknowledged_by = by
        self.acknowledged_at = now
        if self.assignee is None:
            self.assignee = by
        self._stop_escalating()
        self.record("acknowledged", actor=by, at=now)
        return AlertAcknowledged(
            alert_id=self.id,
            acknowledged_by=by,
            seconds_to_acknowledge=round(max(0.0, now - self.incident_at), 3),
        )

    def reassign(self, *, to: str, by: str, note: str | None, now: float) -> None:
        if self.status == "resolved":
            raise Conflict("the alert is resolved")
        if to == self.assignee:
            raise Conflict("the alert is already assigned to that user")
        previous = self.assignee
        self.assignee = to
        detail: dict[str, Any] = {"from": previous, "to": to}
        if note:
            detail["note"] = note
        self.record("reassigned", actor=by, detail=detail, at=now)

    def resolve(
        self, *, outcome: Outcome, note: str | None, by: str | None, now: float
    ) -> AlertResolved:
        if self.status == "resolved":
            raise Conflict("the alert is already resolved")
        self.status = "resolved"
        self.outcome = outcome
        self.note = note
        self.resolved_by = by
        self.resolved_at = now
        self._stop_escalating()
        detail: dict[str, Any] = {"outcome": outcome}
        if note:
            detail["note"] = note
        self.record("resolved", actor=by, detail=detail, at=now)
        return AlertResolved(alert_id=self.id, outcome=outcome, resolved_by=by)

    # ---- timeline -------------------------------------------------------------------------
    def record(
        self,
        kind: str,
        *,
        at: float,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.timeline.append(TimelineEntry(at=at, kind=kind, actor=actor, detail=detail or {}))
        if len(self.timeline) > MAX_TIMELINE:
            # Keep how it started; drop the oldest of the rest.
            self.timeline = [self.timeline[0], *self.timeline[-(MAX_TIMELINE - 1) :]]


def dedup_key(source: AlertSource, *parts: str) -> str:
    """One incident, one key: missed check-in per occurrence, help per request, flagged
    message per message, unanswered support per request."""
    return ":".join((source, *parts))
