"""Routes: on-call rota, overrides and who is on call now; escalation policies; how each
person is reached (contact methods)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hearth_alerts.commands import CreateOverride, PutPolicy, PutRota
from hearth_alerts.domain.contacts import ContactBook
from hearth_alerts.domain.errors import InvalidInput
from hearth_alerts.entrypoints.common import (
    admin,
    contacts_json,
    deps,
    name_path,
    on_call_json,
    override_json,
    policy_json,
    rota_json,
    staff,
)
from hearth_alerts.handlers import config
from hearth_alerts.handlers.context import AlertsDeps
from hearth_kit.auth import Principal
from hearth_kit.http import current_principal, id_path, iso
from hearth_kit.http.security import bearer_token

router = APIRouter(prefix="/v1", tags=["on-call"])


@router.get("/oncall/rota")
async def get_rota(
    principal: Principal = Depends(staff), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    loaded = await config.get_rota(principal=principal, deps=d)
    return rota_json(loaded.value, loaded.version)


@router.put("/oncall/rota")
async def put_rota(
    cmd: PutRota,
    request: Request,
    principal: Principal = Depends(admin),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Replace the rota's layers: people taking turns on a shift length and a handoff
    time in the council's timezone. The first layer is the on-call responder; others
    are named (backup, duty_manager...) for escalation steps. Overrides are kept. Everyone
    in a layer must be council staff of this council."""
    saved = await config.put_rota(cmd, principal=principal, deps=d, token=bearer_token(request))
    return rota_json(saved.value, saved.version)


@router.post("/oncall/overrides", status_code=201)
async def add_override(
    cmd: CreateOverride,
    request: Request,
    principal: Principal = Depends(admin),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """cover: `user_id` is on call in `layer` from `start` to `end` (instead of
    `with_user_id` only, when given); swap: `user_id` and `with_user_id` trade places."""
    override = await config.add_override(
        cmd, principal=principal, deps=d, token=bearer_token(request)
    )
    return override_json(override)


@router.delete("/oncall/overrides/{override_id}", status_code=204)
async def remove_override(
    override_id: str = id_path(),
    principal: Principal = Depends(admin),
    d: AlertsDeps = Depends(deps),
) -> Response:
    await config.remove_override(override_id, principal=principal, deps=d)
    return Response(status_code=204)


@router.get("/oncall/now")
async def on_call_now(
    at: datetime | None = Query(default=None, description="another moment (ISO 8601 with offset)"),
    principal: Principal = Depends(staff),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Who is on call in each layer now (or at `at`), and why (rota, cover, swap)."""
    if at is not None and at.tzinfo is None:
        raise InvalidInput("give `at` with its UTC offset, e.g. 2026-12-24T18:00:00Z", field="at")
    moment = at.timestamp() if at is not None else d.now()
    rota, entries = await config.on_call_now(at=moment, principal=principal, deps=d)
    return {
        "at": iso(moment),
        "timezone": rota.timezone if rota else None,
        "layers": [on_call_json(e) for e in entries],
    }


@router.get("/escalation-policies")
async def list_policies(
    principal: Principal = Depends(staff), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    stored = await config.list_policies(principal=principal, deps=d)
    return {"items": [policy_json(p, built_in=False) for p in stored]}


@router.get("/escalation-policies/{name}")
async def get_policy(
    name: str = name_path(), principal: Principal = Depends(staff), d: AlertsDeps = Depends(deps)
) -> dict[str, Any]:
    """The council's policy of that name, or the built-in `default` / `urgent` one."""
    policy, built_in = await config.get_policy(name, principal=principal, deps=d)
    return policy_json(policy, built_in=built_in)


@router.put("/escalation-policies/{name}")
async def put_policy(
    cmd: PutPolicy,
    request: Request,
    name: str = name_path(),
    principal: Principal = Depends(admin),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Ordered steps, each waiting `delay_seconds` after the previous one went
    unacknowledged; the staff part repeats `repeat` times; `urgent_sources` go straight
    to on-call. A user target names council staff of this council."""
    policy = await config.put_policy(
        name, cmd, principal=principal, deps=d, token=bearer_token(request)
    )
    return policy_json(policy, built_in=False)


@router.get("/users/{user_id}/contact-methods")
async def get_contact_methods(
    request: Request,
    user_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    book = await config.get_contacts(
        user_id, principal=principal, deps=d, token=bearer_token(request)
    )
    return contacts_json(book, show_secrets=False)


@router.put("/users/{user_id}/contact-methods")
async def put_contact_methods(
    book: ContactBook,
    request: Request,
    response: Response,
    user_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: AlertsDeps = Depends(deps),
) -> dict[str, Any]:
    """Replace how a person is reached: webhook (staff; signed with the endpoint's
    secret, shown only here), email, sms (E.164) or console. The person is the caller, or
    someone of the administrator's council (404 otherwise)."""
    saved = await config.put_contacts(
        user_id, book, principal=principal, deps=d, token=bearer_token(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return contacts_json(saved, show_secrets=True)
