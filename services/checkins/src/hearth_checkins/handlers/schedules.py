"""Schedules and pauses: reading, replacing the schedule, adding and ending pauses."""

from __future__ import annotations

from hearth_checkins.commands import AddPause, SetSchedule
from hearth_checkins.domain import (
    Actor,
    Effect,
    InvalidInput,
    NotFoundError,
    Pause,
    Relation,
    ResidentCheckIns,
    make_schedule,
)
from hearth_checkins.handlers.access import access
from hearth_checkins.handlers.context import CheckinsDeps, change_state


async def get_schedule(
    resident_id: str, *, actor: Actor, deps: CheckinsDeps, token: str | None = None
) -> tuple[ResidentCheckIns, Relation]:
    relation = await access(actor, resident_id, "view", deps=deps, token=token)
    loaded = await deps.repos.states.load(actor.tenant_id, resident_id)
    if loaded is None or loaded[0].schedule is None or not loaded[0].active:
        raise NotFoundError("no check-in schedule for this resident", code="no_schedule")
    return loaded[0], relation


async def set_schedule(
    cmd: SetSchedule,
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    token: str | None = None,
) -> ResidentCheckIns:
    """Replace the resident's schedule. The timezone defaults to the current schedule's,
    then to the council's; with neither it must be given."""
    await access(actor, resident_id, "manage", deps=deps, token=token)
    council_zone = await deps.repos.councils.timezone(actor.tenant_id)

    def change(state: ResidentCheckIns) -> tuple[ResidentCheckIns, list[Effect], None]:
        zone = cmd.timezone or (state.schedule.timezone if state.schedule else council_zone)
        if zone is None:
            raise InvalidInput(
                "timezone is required: the council's timezone is not known here",
                field="timezone",
                code="timezone_required",
            )
        schedule = make_schedule(
            timezone=zone,
            times=[(t.at, t.days) for t in cmd.times],
            grace_minutes=cmd.grace_minutes,
            reminder_minutes_before=cmd.reminder_minutes_before,
            early_minutes=cmd.early_minutes,
        )
        return state.with_schedule(schedule, now=deps.clock.now()), [], None

    state, _ = await change_state(actor.tenant_id, resident_id, change, deps=deps, create=True)
    return state


async def add_pause(
    cmd: AddPause,
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    token: str | None = None,
) -> tuple[ResidentCheckIns, Pause]:
    await access(actor, resident_id, "manage", deps=deps, token=token)
    pause = Pause(
        id=deps.new_id(),
        starts=cmd.starts_at.timestamp(),
        ends=cmd.ends_at.timestamp(),
        reason=cmd.reason,
        created_by=actor.user_id,
        note=cmd.note,
    )

    def change(state: ResidentCheckIns) -> tuple[ResidentCheckIns, list[Effect], None]:
        if state.schedule is None:
            raise NotFoundError("no check-in schedule to pause", code="no_schedule")
        return state.with_pause(pause, now=deps.clock.now()), [], None

    state, _ = await change_state(actor.tenant_id, resident_id, change, deps=deps)
    return state, pause


async def end_pause(
    pause_id: str,
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    token: str | None = None,
) -> ResidentCheckIns:
    await access(actor, resident_id, "manage", deps=deps, token=token)

    def change(state: ResidentCheckIns) -> tuple[ResidentCheckIns, list[Effect], None]:
        return state.without_pause(pause_id, now=deps.clock.now()), [], None

    state, _ = await change_state(actor.tenant_id, resident_id, change, deps=deps)
    return state
