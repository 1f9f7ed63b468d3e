"""Check-ins and help requests: recording, listing, asking for help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth_checkins.commands import RecordCheckIn, RequestHelp
from hearth_checkins.domain import (
    Actor,
    CheckIn,
    CheckInInput,
    Effect,
    HelpNeeded,
    InvalidInput,
    NotFoundError,
    Relation,
    ResidentCheckIns,
    check_input,
)
from hearth_checkins.domain.checkin import RESIDENT_CHANNELS
from hearth_checkins.handlers.access import access
from hearth_checkins.handlers.context import PRODUCER, CheckinsDeps, change_state
from hearth_checkins.handlers.events import count_effects, help_event
from hearth_kit.messaging import outbox_entry
from hearth_timers import utc_datetime


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    # False when an earlier request with the same idempotency key already recorded it.
    created: bool
    relation: Relation


async def record_checkin(
    cmd: RecordCheckIn,
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    idempotency_key: str | None = None,
    token: str | None = None,
) -> CheckInResult:
    """Record a check-in by the resident, or by staff on their behalf."""
    relation = await access(actor, resident_id, "check_in", deps=deps, token=token)
    by_resident = relation is Relation.SELF
    value = CheckInInput(
        status=cmd.status,
        channel=cmd.channel or ("app" if by_resident else "staff"),
        recorded_by=actor.user_id,
        mood=cmd.mood,
        note=cmd.note,
        idempotency_key=idempotency_key,
    )
    check_input(value, by_resident=by_resident)
    checkin_id = deps.new_id()

    def change(state: ResidentCheckIns) -> tuple[ResidentCheckIns, list[Effect], CheckIn]:
        new, checkin, effects = state.check_in(value, checkin_id=checkin_id, now=deps.clock.now())
        return new, effects, checkin

    state, checkin = await change_state(
        actor.tenant_id, resident_id, change, deps=deps, create=True
    )
    history = deps.repos.history
    await history.repair(actor.tenant_id, [c for c in state.recent if c.id != checkin.id])
    await history.add(actor.tenant_id, checkin)
    return CheckInResult(checkin=checkin, created=checkin.id == checkin_id, relation=relation)


async def list_checkins(
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    limit: int = 20,
    cursor: str | None = None,
    token: str | None = None,
) -> tuple[list[CheckIn], str | None, Relation]:
    relation = await access(actor, resident_id, "view", deps=deps, token=token)
    loaded = await deps.repos.states.load(actor.tenant_id, resident_id)
    if loaded is not None and cursor is None:
        await deps.repos.history.repair(actor.tenant_id, loaded[0].recent)
    items, next_cursor = await deps.repos.history.page(
        actor.tenant_id, resident_id, limit=limit, cursor=cursor
    )
    return items, next_cursor, relation


async def request_help(
    cmd: RequestHelp,
    resident_id: str,
    *,
    actor: Actor,
    deps: CheckinsDeps,
    token: str | None = None,
) -> dict[str, Any]:
    """Raise an immediate help request (checkins.help.requested)."""
    relation = await access(actor, resident_id, "help", deps=deps, token=token)
    allowed = {"phone", "visit", "staff"} if relation is Relation.STAFF else RESIDENT_CHANNELS
    channel = cmd.channel or ("staff" if relation is Relation.STAFF else "app")
    if channel not in allowed:
        raise InvalidInput(f"channel must be one of {', '.join(sorted(allowed))}", field="channel")
    loaded = await deps.repos.states.load(actor.tenant_id, resident_id)
    if loaded is not None and not loaded[0].active:
        raise NotFoundError("resident not found", code="resident_not_found")
    request_id = deps.new_id()
    now = deps.clock.now()
    effect = HelpNeeded(request_id=request_id, channel=channel, requested_by=actor.user_id)
    event = outbox_entry(
        help_event(resident_id, effect),
        tenant_id=actor.tenant_id,
        subject=resident_id,
        producer=PRODUCER,
        occurred_at=utc_datetime(deps.clock),
    )
    doc = {
        "id": request_id,
        "tenant_id": actor.tenant_id,
        "resident_id": resident_id,
        "requested_by": actor.user_id,
        "channel": channel,
        "note": cmd.note,
        "requested_at": now,
    }
    await deps.repos.help_requests.add(doc, events=[event])
    count_effects([effect], actor.tenant_id, deps.metrics)
    return doc
