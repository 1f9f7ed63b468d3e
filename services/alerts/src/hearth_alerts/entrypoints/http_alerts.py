"""Routes: the alert list, one alert, acknowledge / resolve / reassign, the council's alert
settings, and the live stream for staff consoles (server-sent events)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse

from hearth_alerts.channels.console import StreamHub
from hearth_alerts.commands import AcknowledgeAlert, ReassignAlert, ResolveAlert
from hearth_alerts.domain.escalation import CouncilSettings
from hearth_alerts.entrypoints.common import admin, alert_json, alert_summary, deps, staff
from hearth_alerts.handlers import commands, config
from hearth_alerts.handlers.context import AlertsDeps
from hearth_kit.auth import Principal, TokenVerifier
from hearth_kit.http import id_path
from hearth_kit.http.security import bearer_token

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("")
async def list_alerts(
    status: str | None = Query(default=None, max_length=20),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=500),
    principal: Principal = Depends(staff),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """The council's alerts, newest first; `status` = open, acknowledged or resolved."""
    alerts, next_cursor = await commands.list_alerts(
        principal=principal, deps=d, status=status, limit=limit, cursor=cursor
    )
    return {"items": [alert_summary(a) for a in alerts], "next_cursor": next_cursor}


@router.get("/settings")
async def get_settings(
    principal: Principal = Depends(staff), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    """Severity and escalation policy per source (unset sources use the defaults)."""
    found = await config.get_settings(principal=principal, deps=d)
    return found.model_dump(mode="json")


@router.put("/settings")
async def put_settings(
    cmd: CouncilSettings, principal: Principal = Depends(admin), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    saved = await config.put_settings(cmd, principal=principal, deps=d)
    return saved.model_dump(mode="json")


@router.get("/stream", response_class=StreamingResponse)
async def stream(request: Request, principal: Principal = Depends(staff)) -> StreamingResponse:
    """Server-sent events of the council's alerts: alerts.alert.raised, .acknowledged,
    .escalated, .resolved and alerts.notification.sent, as they happen. A comment line
    is sent as a heartbeat; the stream ends with `token_expired` when the access token
    expires (reconnect with a fresh one) and with `token_revoked` when its sign-in ends
    (signed out, deactivated)."""
    hub: StreamHub = request.app.state.hub
    verifier: TokenVerifier = request.app.state.token_verifier
    heartbeat: float = request.app.state.settings.stream_heartbeat_seconds
    subscription = hub.subscribe(principal.tenant_id)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n: connected\n\n"
            async for item in subscription.events(heartbeat):
                # The token was verified once, at connect; the sign-in may end meanwhile.
                if verifier.is_revoked(principal):
                    yield b"event: token_revoked\ndata: {}\n\n"
                    return
                if principal.expires_at and time.time() >= principal.expires_at:
                    yield b"event: token_expired\ndata: {}\n\n"
                    return
                if item is None:
                    yield b": heartbeat\n\n"
                    continue
                data = json.dumps(item, separators=(",", ":"))
                yield f"id: {item['event_id']}\nevent: {item['type']}\ndata: {data}\n\n".encode()
            if subscription.overflowed:
                yield b"event: overflow\ndata: {}\n\n"
        finally:
            hub.unsubscribe(subscription)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}")
async def get_alert(
    alert_id: str = id_path(), principal: Principal = Depends(staff), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    """One alert with its escalation steps and full timeline."""
    loaded = await commands.get_alert(alert_id, principal=principal, deps=d)
    return alert_json(loaded.value)


@router.post("/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: str = id_path(),
    cmd: AcknowledgeAlert | None = Body(default=None),
    principal: Principal = Depends(staff),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Stop the escalation and record who acknowledged it, and when."""
    alert = await commands.acknowledge(
        alert_id, cmd or AcknowledgeAlert(), principal=principal, deps=d
    )
    return alert_json(alert)


@router.post("/{alert_id}/resolve")
async def resolve(
    cmd: ResolveAlert,
    alert_id: str = id_path(),
    principal: Principal = Depends(staff),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Close the alert with an outcome and a note."""
    alert = await commands.resolve(alert_id, cmd, principal=principal, deps=d)
    return alert_json(alert)


@router.post("/{alert_id}/reassign")
async def reassign(
    cmd: ReassignAlert,
    request: Request,
    alert_id: str = id_path(),
    principal: Principal = Depends(staff),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Give the alert to someone else (council staff of this council); they are notified."""
    alert = await commands.reassign(
        alert_id, cmd, principal=principal, deps=d, token=bearer_token(request)
    )
    return alert_json(alert)
