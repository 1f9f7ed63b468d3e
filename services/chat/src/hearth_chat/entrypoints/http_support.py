"""HTTP routes of live support: requests, the staff queue, claims, handovers, closing,
and the council's target for answering."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hearth_chat.commands import CloseRequest, Handover, RequestSupport, SupportSettings
from hearth_chat.domain.access import Actor
from hearth_chat.domain.support import Status
from hearth_chat.entrypoints.common import Admin, Deps, Member, Staff, Token
from hearth_chat.entrypoints.views import request_json
from hearth_chat.handlers import support
from hearth_kit.http import id_path

router = APIRouter(prefix="/v1/support", tags=["support"])


@router.post("/requests", status_code=201)
async def open_request(
    cmd: RequestSupport, response: Response, principal: Member, d: Deps, token: Token
) -> dict[str, Any]:
    request, created = await support.request_support(
        cmd.urgency,
        actor=Actor.of(principal),
        deps=d,
        resident_id=cmd.resident_id,
        text=cmd.text,
        token=token,
    )
    if not created:
        response.status_code = 200  # the caller's request still open
    return request_json(request, now=d.now())


@router.get("/queue")
async def queue(
    principal: Staff,
    d: Deps,
    status: Status = "waiting",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    """Requests in a status (waiting by default): urgent first, then longest waiting."""
    items, next_cursor = await support.queue(
        status, actor=Actor.of(principal), deps=d, limit=limit, cursor=cursor
    )
    now = d.now()
    return {"items": [request_json(r, now=now) for r in items], "next_cursor": next_cursor}


@router.get("/requests/{request_id}")
async def get_request(principal: Member, d: Deps, request_id: str = id_path()) -> dict[str, Any]:
    request = await support.get_request(request_id, actor=Actor.of(principal), deps=d)
    return request_json(request, now=d.now())


@router.post("/requests/{request_id}/claim")
async def claim(principal: Staff, d: Deps, request_id: str = id_path()) -> dict[str, Any]:
    request = await support.claim(request_id, actor=Actor.of(principal), deps=d)
    return request_json(request, now=d.now())


@router.post("/requests/{request_id}/handover")
async def handover(
    cmd: Handover, principal: Staff, d: Deps, token: Token, request_id: str = id_path()
) -> dict[str, Any]:
    request = await support.handover(
        request_id, cmd.to_user_id, cmd.note, actor=Actor.of(principal), deps=d, token=token
    )
    return request_json(request, now=d.now())


@router.post("/requests/{request_id}/close")
async def close(
    cmd: CloseRequest, principal: Member, d: Deps, request_id: str = id_path()
) -> dict[str, Any]:
    request = await support.close(request_id, cmd.outcome, actor=Actor.of(principal), deps=d)
    return request_json(request, now=d.now())


@router.get("/settings")
async def get_settings(principal: Staff, d: Deps) -> dict[str, Any]:
    seconds = await support.target_seconds(principal.tenant_id, deps=d)
    return {"target_seconds": seconds}


@router.put("/settings")
async def put_settings(cmd: SupportSettings, principal: Admin, d: Deps) -> dict[str, Any]:
    seconds = await support.set_target(float(cmd.target_seconds), actor=Actor.of(principal), deps=d)
    return {"target_seconds": seconds}
