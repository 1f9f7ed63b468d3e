"""HTTP routes (reached through the gateway): schedules, pauses, check-ins, help.

Thin: authenticate, turn the principal into an actor, call the handler, shape the view.
Who may do what is decided by the handlers (`handlers.access`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from hearth_checkins.commands import AddPause, RecordCheckIn, RequestHelp, SetSchedule
from hearth_checkins.domain import Actor
from hearth_checkins.entrypoints.views import checkin_json, iso, pause_json, schedule_json
from hearth_checkins.handlers import checkins, schedules
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_kit.auth import Principal
from hearth_kit.http import current_principal
from hearth_kit.http.security import bearer_token

router = APIRouter(prefix="/v1/residents/{resident_id}", tags=["checkins"])

# Every id in a path: bounded and plain, so nothing odd reaches the store.
_ID = r"^[A-Za-z0-9-]+$"
ResidentId = Annotated[str, Path(min_length=1, max_length=64, pattern=_ID)]
PauseId = Annotated[str, Path(min_length=1, max_length=64, pattern=_ID)]


def deps(request: Request) -> CheckinsDeps:
    found: CheckinsDeps = request.app.state.checkins
    return found


Caller = Annotated[Principal, Depends(current_principal)]
Deps = Annotated[CheckinsDeps, Depends(deps)]


@router.put("/checkin-schedule")
async def put_schedule(
    cmd: SetSchedule, resident_id: ResidentId, request: Request, principal: Caller, d: Deps
) -> dict[str, Any]:
    state = await schedules.set_schedule(
        cmd, resident_id, actor=Actor.of(principal), deps=d, token=bearer_token(request)
    )
    return schedule_json(state, now=d.clock.now())


@router.get("/checkin-schedule")
async def get_schedule(
    resident_id: ResidentId, request: Request, principal: Caller, d: Deps
) -> dict[str, Any]:
    state, _ = await schedules.get_schedule(
        resident_id, actor=Actor.of(principal), deps=d, token=bearer_token(request)
    )
    return schedule_json(state, now=d.clock.now())


@router.post("/checkin-schedule/pauses", status_code=201)
async def add_pause(
    cmd: AddPause, resident_id: ResidentId, request: Request, principal: Caller, d: Deps
) -> dict[str, Any]:
    state, pause = await schedules.add_pause(
        cmd, resident_id, actor=Actor.of(principal), deps=d, token=bearer_token(request)
    )
    now = d.clock.now()
    return {"pause": pause_json(pause, now=now), "schedule": schedule_json(state, now=now)}


@router.delete("/checkin-schedule/pauses/{pause_id}")
async def end_pause(
    resident_id: ResidentId, pause_id: PauseId, request: Request, principal: Caller, d: Deps
) -> dict[str, Any]:
    state = await schedules.end_pause(
        pause_id, resident_id, actor=Actor.of(principal), deps=d, token=bearer_token(request)
    )
    return schedule_json(state, now=d.clock.now())


@router.post("/checkins", status_code=201)
async def record_checkin(
    cmd: RecordCheckIn,
    resident_id: ResidentId,
    request: Request,
    response: Response,
    principal: Caller,
    d: Deps,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=256)] = None,
) -> dict[str, Any]:
    result = await checkins.record_checkin(
        cmd,
        resident_id,
        actor=Actor.of(principal),
        deps=d,
        idempotency_key=idempotency_key,
        token=bearer_token(request),
    )
    if not result.created:
        response.status_code = 200  # a repeated request: the first record, unchanged
    return checkin_json(result.checkin, relation=result.relation)


@router.get("/checkins")
async def list_checkins(
    resident_id: ResidentId,
    request: Request,
    principal: Caller,
    d: Deps,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    items, next_cursor, relation = await checkins.list_checkins(
        resident_id,
        actor=Actor.of(principal),
        deps=d,
        limit=limit,
        cursor=cursor,
        token=bearer_token(request),
    )
    return {
        "items": [checkin_json(c, relation=relation) for c in items],
        "next_cursor": next_cursor,
    }


@router.post("/help", status_code=202)
async def request_help(
    resident_id: ResidentId,
    request: Request,
    principal: Caller,
    d: Deps,
    cmd: Annotated[RequestHelp | None, Body()] = None,
) -> dict[str, Any]:
    doc = await checkins.request_help(
        cmd or RequestHelp(),
        resident_id,
        actor=Actor.of(principal),
        deps=d,
        token=bearer_token(request),
    )
    return {
        "request_id": doc["id"],
        "resident_id": resident_id,
        "channel": doc["channel"],
        "requested_at": iso(doc["requested_at"]),
    }
