"""Aggregates as store documents and back (JSON-shaped dicts, epoch seconds for times)."""

from __future__ import annotations

from datetime import time
from typing import Any

from hearth_checkins.domain import (
    CheckIn,
    CheckInTime,
    LastOutcome,
    Occurrence,
    Pause,
    ResidentCheckIns,
    Schedule,
)

Doc = dict[str, Any]
# The state's due field: the next reminder or deadline (epoch seconds), None when idle.
DUE_FIELD = "next_fire_at"


def schedule_doc(schedule: Schedule) -> Doc:
    return {
        "timezone": schedule.timezone,
        "times": [{"at": t.label, "days": sorted(t.days)} for t in schedule.times],
        "grace_minutes": schedule.grace_minutes,
        "reminder_minutes": list(schedule.reminder_minutes),
        "early_minutes": schedule.early_minutes,
    }


def schedule_from(doc: Doc) -> Schedule:
    return Schedule(
        timezone=doc["timezone"],
        times=tuple(
            CheckInTime(at=time.fromisoformat(t["at"]), days=frozenset(t["days"]))
            for t in doc["times"]
        ),
        grace_minutes=int(doc["grace_minutes"]),
        reminder_minutes=tuple(int(m) for m in doc.get("reminder_minutes", ())),
        early_minutes=int(doc.get("early_minutes", 60)),
    )


def occurrence_doc(occurrence: Occurrence) -> Doc:
    return {
        "key": occurrence.key,
        "due": occurrence.due,
        "deadline": occurrence.deadline,
        "reminders": list(occurrence.reminders),
    }


def occurrence_from(doc: Doc) -> Occurrence:
    return Occurrence(
        key=doc["key"],
        due=float(doc["due"]),
        deadline=float(doc["deadline"]),
        reminders=tuple(float(r) for r in doc.get("reminders", ())),
    )


def pause_doc(pause: Pause) -> Doc:
    return {
        "id": pause.id,
        "starts": pause.starts,
        "ends": pause.ends,
        "reason": pause.reason,
        "created_by": pause.created_by,
        "note": pause.note,
    }


def pause_from(doc: Doc) -> Pause:
    return Pause(
        id=doc["id"],
        starts=float(doc["starts"]),
        ends=float(doc["ends"]),
        reason=doc["reason"],
        created_by=doc["created_by"],
        note=doc.get("note"),
    )


def checkin_doc(checkin: CheckIn) -> Doc:
    return {
        "id": checkin.id,
        "resident_id": checkin.resident_id,
        "status": checkin.status,
        "channel": checkin.channel,
        "recorded_by": checkin.recorded_by,
        "recorded_at": checkin.recorded_at,
        "mood": checkin.mood,
        "note": checkin.note,
        "idempotency_key": checkin.idempotency_key,
        "occurrence_key": checkin.occurrence_key,
        "late": checkin.late,
        "recovered": list(checkin.recovered),
    }


def checkin_from(doc: Doc) -> CheckIn:
    return CheckIn(
        id=doc["id"],
        resident_id=doc["resident_id"],
        status=doc["status"],
        channel=doc["channel"],
        recorded_by=doc["recorded_by"],
        recorded_at=float(doc["recorded_at"]),
        mood=doc.get("mood"),
        note=doc.get("note"),
        idempotency_key=doc.get("idempotency_key"),
        occurrence_key=doc.get("occurrence_key"),
        late=bool(doc.get("late", False)),
        recovered=tuple(doc.get("recovered", ())),
    )


def state_doc(state: ResidentCheckIns) -> Doc:
    last = state.last
    return {
        "id": state.resident_id,
        "tenant_id": state.tenant_id,
        "resident_id": state.resident_id,
        "active": state.active,
        "schedule": schedule_doc(state.schedule) if state.schedule else None,
        "pauses": [pause_doc(p) for p in state.pauses],
        "current": occurrence_doc(state.current) if state.current else None,
        "resolved_through": state.resolved_through,
        "last": None
        if last is None
        else {"key": last.key, "due": last.due, "outcome": last.outcome, "at": last.at},
        "unrecovered": [occurrence_doc(o) for o in state.unrecovered],
        "recent": [checkin_doc(c) for c in state.recent],
        DUE_FIELD: state.next_fire_at,
    }


def state_from(doc: Doc) -> ResidentCheckIns:
    last = doc.get("last")
    return ResidentCheckIns(
        tenant_id=doc["tenant_id"],
        resident_id=doc["resident_id"],
        schedule=schedule_from(doc["schedule"]) if doc.get("schedule") else None,
        pauses=tuple(pause_from(p) for p in doc.get("pauses", ())),
        current=occurrence_from(doc["current"]) if doc.get("current") else None,
        resolved_through=doc.get("resolved_through"),
        last=None
        if not last
        else LastOutcome(last["key"], float(last["due"]), last["outcome"], float(last["at"])),
        unrecovered=tuple(occurrence_from(o) for o in doc.get("unrecovered", ())),
        recent=tuple(checkin_from(c) for c in doc.get("recent", ())),
        active=bool(doc.get("active", True)),
    )
