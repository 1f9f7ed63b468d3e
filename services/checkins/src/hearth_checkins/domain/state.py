"""One resident's check-ins: schedule, pauses and the occurrence they are expected to answer.

`ResidentCheckIns` is the aggregate. Its `next_fire_at` (the next reminder or deadline)
drives the durable timer, and every change is saved with compare-and-swap, so a check-in
and the deadline firing race as wholes: exactly one of "answered" or "missed" wins for an
occurrence. Transitions are pure: they return the new state and the effects (events) the
handlers turn into outbox entries.

Rules, as a person would expect them:
- A check-in counts for the expected occurrence from `early_minutes` before its due time.
  After the deadline it still counts (late) as long as the miss has not been acted on.
- A check-in outside any window is still recorded; it answers nothing.
- The deadline passing unanswered raises exactly one miss for that occurrence; the next
  check-in, whenever it comes, recovers every miss not yet recovered.
- A schedule change takes effect from the next occurrence; one already due (inside its
  grace period) keeps its deadline.
- A pause touching an occurrence's window cancels it silently; after the pause the next
  occurrence is expected as usual. Reminders that fall inside a pause are not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from hearth_checkins.domain.checkin import Channel, CheckIn, CheckInInput
from hearth_checkins.domain.errors import Conflict, InvalidInput, NotFoundError
from hearth_checkins.domain.occurrences import Occurrence, next_occurrence
from hearth_checkins.domain.pauses import Pause, check_new_pause, overlapping
from hearth_checkins.domain.schedule import Schedule

RECENT_CHECKINS = 10
MAX_UNRECOVERED = 20
MAX_PAUSES = 20
Outcome = Literal["checked_in", "missed", "cancelled"]


@dataclass(frozen=True)
class LastOutcome:
    key: str
    due: float
    outcome: Outcome
    at: float


# ---- effects ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    checkin: CheckIn
    occurrence_due: float | None


@dataclass(frozen=True)
class Missed:
    occurrence: Occurrence


@dataclass(frozen=True)
class Recovered:
    occurrence: Occurrence
    checkin_id: str


@dataclass(frozen=True)
class HelpNeeded:
    request_id: str
    channel: Channel
    requested_by: str


@dataclass(frozen=True)
class ReminderDue:
    occurrence: Occurrence


Effect = Recorded | Missed | Recovered | HelpNeeded | ReminderDue


@dataclass(frozen=True)
class ResidentCheckIns:
    tenant_id: str
    resident_id: str
    schedule: Schedule | None = None
    pauses: tuple[Pause, ...] = ()
    current: Occurrence | None = None
    resolved_through: float | None = None
    last: LastOutcome | None = None
    unrecovered: tuple[Occurrence, ...] = ()
    recent: tuple[CheckIn, ...] = ()
    active: bool = True

    # ---- reading ------------------------------------------------------------------------
    def occurrence_id(self, occurrence: Occurrence) -> str:
        return f"{self.resident_id}:{occurrence.key}"

    @property
    def next_fire_at(self) -> float | None:
        """When the timer must next look at this resident: a reminder or the deadline."""
        if not self.active or self.current is None:
            return None
        return min((*self.current.reminders, self.current.deadline))

    def find_recent(self, idempotency_key: str) -> CheckIn | None:
        for checkin in self.recent:
            if checkin.idempotency_key == idempotency_key:
                return checkin
        return None

    # ---- schedule and pauses ------------------------------------------------------------
    def with_schedule(self, schedule: Schedule, *, now: float) -> ResidentCheckIns:
        return replace(self, schedule=schedule, active=True)._replan(now)

    def with_pause(self, pause: Pause, *, now: float) -> ResidentCheckIns:
        check_new_pause(pause, self.pauses, now=now)
        ahead = [p for p in self.pauses if not p.is_over(now)]
        if len(ahead) >= MAX_PAUSES:
            raise InvalidInput(f"at most {MAX_PAUSES} pauses can be planned", field="starts_at")
        # Pauses that are over are kept for the record, the most recent first to stay.
        over = [p for p in self.pauses if p.is_over(now)]
        room = MAX_PAUSES - len(ahead) - 1
        over = over[len(over) - room :] if room > 0 else []
        pauses = sorted((*over, *ahead, pause), key=lambda p: p.starts)
        state = replace(self, pauses=tuple(pauses))
        current = state.current
        if current is not None and pause.covers(current.due, current.deadline):
            state = state._resolve(current, "cancelled", now)
        return state._replan(now)

    def without_pause(self, pause_id: str, *, now: float) -> ResidentCheckIns:
        """End a pause now (or drop it if it has not started)."""
        pause = next((p for p in self.pauses if p.id == pause_id), None)
        if pause is None:
            raise NotFoundError("no such pause", code="pause_not_found")
        if pause.is_over(now):
            raise Conflict("this pause is already over", code="pause_over")
        others = tuple(p for p in self.pauses if p.id != pause_id)
        pauses = (*others, replace(pause, ends=now)) if pause.starts <= now else others
        state = replace(self, pauses=tuple(sorted(pauses, key=lambda p: p.starts)))
        return state._replan(now)

    def deactivated(self) -> ResidentCheckIns:
        """The resident left (or was erased): nothing is due and nothing is raised again."""
        return replace(self, active=False, current=None)

    # ---- check-ins ----------------------------------------------------------------------
    def check_in(
        self, value: CheckInInput, *, checkin_id: str, now: float
    ) -> tuple[ResidentCheckIns, CheckIn, list[Effect]]:
        """Record a check-in. A repeated idempotency key returns the first record and
        changes nothing (no effects)."""
        if value.idempotency_key is not None:
            earlier = self.find_recent(value.idempotency_key)
            if earlier is not None:
                return self, earlier, []
        current = self.current
        answers = (
            current is not None
            and self.schedule is not None
            and now >= current.due - self.schedule.early_minutes * 60.0
        )
        checkin = CheckIn(
            id=checkin_id,
            resident_id=self.resident_id,
            status=value.status,
            channel=value.channel,
            recorded_by=value.recorded_by,
            recorded_at=now,
            mood=value.mood,
            note=value.note,
            idempotency_key=value.idempotency_key,
            occurrence_key=current.key if answers and current else None,
            late=bool(answers and current and now >= current.deadline),
            recovered=tuple(o.key for o in self.unrecovered),
        )
        effects: list[Effect] = [Recorded(checkin, current.due if answers and current else None)]
        effects.extend(Recovered(o, checkin_id) for o in self.unrecovered)
        if value.status == "need_help":
            effects.append(HelpNeeded(checkin_id, value.channel, value.recorded_by))
        state = replace(self, unrecovered=(), recent=(*self.recent, checkin)[-RECENT_CHECKINS:])
        if answers and current is not None:
            state = state._resolve(current, "checked_in", now)._replan(now)
        return state, checkin, effects

    # ---- the timer ----------------------------------------------------------------------
    def on_timer(self, *, now: float) -> tuple[ResidentCheckIns, list[Effect]]:
        """What the timer does when `next_fire_at` comes: send due reminders, or, once the
        deadline has passed unanswered, raise the miss and expect the next occurrence."""
        current = self.current
        if not self.active or current is None:
            return replace(self, current=None) if not self.active else self, []
        if now >= current.deadline:
            if overlapping(self.pauses, current.due, current.deadline):
                return self._resolve(current, "cancelled", now)._replan(now), []
            state = self._resolve(current, "missed", now)
            state = replace(state, unrecovered=(*self.unrecovered, current)[-MAX_UNRECOVERED:])
            return state._replan(now), [Missed(current)]
        passed = tuple(r for r in current.reminders if r <= now)
        if not passed:
            return self, []
        rest = tuple(r for r in current.reminders if r > now)
        state = replace(self, current=replace(current, reminders=rest))
        if overlapping(self.pauses, now, now):
            return state, []
        return state, [ReminderDue(current)]

    # ---- internals ----------------------------------------------------------------------
    def _resolve(self, occurrence: Occurrence, outcome: Outcome, now: float) -> ResidentCheckIns:
        return replace(
            self,
            current=None,
            resolved_through=max(self.resolved_through or occurrence.due, occurrence.due),
            last=LastOutcome(occurrence.key, occurrence.due, outcome, now),
        )

    def _replan(self, now: float) -> ResidentCheckIns:
        """Expect the next occurrence, unless the current one is already due (it keeps its
        deadline whatever changed)."""
        if not self.active or self.schedule is None:
            return replace(self, current=None)
        if self.current is not None and self.current.due <= now:
            return self
        upcoming = next_occurrence(
            self.schedule, self.pauses, now=now, after_due=self.resolved_through
        )
        return replace(self, current=upcoming)
