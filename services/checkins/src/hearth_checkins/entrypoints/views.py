"""JSON views of check-ins' aggregates, trimmed to what the caller's relation allows."""

from __future__ import annotations

from typing import Any

from hearth_checkins.domain import CheckIn, Occurrence, Pause, Relation, ResidentCheckIns
from hearth_kit.http import iso


def occurrence_json(state: ResidentCheckIns, occurrence: Occurrence) -> dict[str, Any]:
    return {
        "occurrence_id": state.occurrence_id(occurrence),
        "local": occurrence.key,
        "due_at": iso(occurrence.due),
        "deadline_at": iso(occurrence.deadline),
        "reminders_at": [iso(r) for r in occurrence.reminders],
    }


def pause_json(pause: Pause, *, now: float) -> dict[str, Any]:
    return {
        "id": pause.id,
        "starts_at": iso(pause.starts),
        "ends_at": iso(pause.ends),
        "reason": pause.reason,
        "note": pause.note,
        "active": pause.starts <= now < pause.ends,
        "created_by": pause.created_by,
    }


def schedule_json(state: ResidentCheckIns, *, now: float) -> dict[str, Any]:
    schedule = state.schedule
    assert schedule is not None
    last = state.last
    return {
        "resident_id": state.resident_id,
        "timezone": schedule.timezone,
        "times": [{"at": t.label, "days": t.day_names()} for t in schedule.times],
        "grace_minutes": schedule.grace_minutes,
        "reminder_minutes_before": list(schedule.reminder_minutes),
        "early_minutes": schedule.early_minutes,
        "pauses": [pause_json(p, now=now) for p in state.pauses],
        "next": occurrence_json(state, state.current) if state.current else None,
        "last": None
        if last is None
        else {
            "occurrence_id": f"{state.resident_id}:{last.key}",
            "local": last.key,
            "due_at": iso(last.due),
            "outcome": last.outcome,
            "at": iso(last.at),
        },
        "unrecovered": [state.occurrence_id(o) for o in state.unrecovered],
    }


def checkin_json(checkin: CheckIn, *, relation: Relation) -> dict[str, Any]:
    """A check-in; its mood and note are for the resident and staff, not the circle."""
    body: dict[str, Any] = {
        "id": checkin.id,
        "resident_id": checkin.resident_id,
        "status": checkin.status,
        "channel": checkin.channel,
        "recorded_by": checkin.recorded_by,
        "recorded_at": iso(checkin.recorded_at),
        "occurrence_id": f"{checkin.resident_id}:{checkin.occurrence_key}"
        if checkin.occurrence_key
        else None,
        "late": checkin.late,
        "recovered": [f"{checkin.resident_id}:{key}" for key in checkin.recovered],
    }
    if relation is not Relation.CIRCLE:
        body["mood"] = checkin.mood
        body["note"] = checkin.note
    return body
