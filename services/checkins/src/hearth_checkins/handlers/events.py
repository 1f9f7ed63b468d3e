"""Domain effects as Hearth events (outbox entries) and as business metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.domain import (
    Effect,
    HelpNeeded,
    Missed,
    Recorded,
    Recovered,
    ReminderDue,
    ResidentCheckIns,
)
from hearth_contracts.checkins import (
    CheckInMissed,
    CheckInRecorded,
    CheckInRecovered,
    HelpRequested,
)
from hearth_contracts.envelope import EventData
from hearth_kit.messaging import outbox_entry
from hearth_timers import Clock, utc_datetime

PRODUCER = "checkins"


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def event_for(effect: Effect, state: ResidentCheckIns) -> EventData | None:
    resident = state.resident_id
    if isinstance(effect, Recorded):
        c = effect.checkin
        return CheckInRecorded(
            resident_id=resident,
            checkin_id=c.id,
            status=c.status,
            channel=c.channel,
            mood=c.mood,
            recorded_by=c.recorded_by,
            occurrence_due_at=_at(effect.occurrence_due) if effect.occurrence_due else None,
        )
    if isinstance(effect, Missed):
        o = effect.occurrence
        return CheckInMissed(
            resident_id=resident,
            occurrence_id=state.occurrence_id(o),
            due_at=_at(o.due),
            deadline_at=_at(o.deadline),
        )
    if isinstance(effect, Recovered):
        return CheckInRecovered(
            resident_id=resident,
            occurrence_id=state.occurrence_id(effect.occurrence),
            checkin_id=effect.checkin_id,
        )
    if isinstance(effect, HelpNeeded):
        return help_event(resident, effect)
    # Reminders have no event type yet: they are counted (see count_effects).
    return None


def help_event(resident_id: str, effect: HelpNeeded) -> HelpRequested:
    return HelpRequested(
        resident_id=resident_id,
        request_id=effect.request_id,
        channel=effect.channel,
        requested_by=effect.requested_by,
    )


def outbox_events(
    effects: Sequence[Effect], state: ResidentCheckIns, *, clock: Clock
) -> list[dict[str, Any]]:
    occurred = utc_datetime(clock)
    entries = []
    for effect in effects:
        data = event_for(effect, state)
        if data is not None:
            entries.append(
                outbox_entry(
                    data,
                    tenant_id=state.tenant_id,
                    subject=state.resident_id,
                    producer=PRODUCER,
                    occurred_at=occurred,
                )
            )
    return entries


def count_effects(effects: Sequence[Effect], tenant_id: str, metrics: CheckinsMetrics) -> None:
    for effect in effects:
        if isinstance(effect, Recorded):
            c = effect.checkin
            answered = "none" if c.occurrence_key is None else ("late" if c.late else "on_time")
            metrics.recorded.labels(tenant_id, c.status, c.channel, answered).inc()
        elif isinstance(effect, Missed):
            metrics.missed.labels(tenant_id).inc()
        elif isinstance(effect, Recovered):
            metrics.recovered.labels(tenant_id).inc()
        elif isinstance(effect, HelpNeeded):
            metrics.help_requested.labels(tenant_id).inc()
        elif isinstance(effect, ReminderDue):
            metrics.reminders.labels(tenant_id).inc()
