"""Routes: circles of support."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from hearth_identity.commands import CreateInvitation, JoinCircle
from hearth_identity.entrypoints.common import deps, iso, user_json
from hearth_identity.handlers import circles
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.auth import Principal
from hearth_kit.http import current_principal, id_path

router = APIRouter(prefix="/v1", tags=["circles"])


@router.post("/residents/{resident_id}/circle/invitations", status_code=201)
async def invite(
    cmd: CreateInvitation,
    response: Response,
    resident_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    """A one-time code for a family member or carer; shown once, stored only hashed."""
    invitation, code = await circles.invite(resident_id, cmd, principal=principal, deps=d)
    response.headers["Cache-Control"] = "no-store"
    return {
        "invitation_id": invitation.id,
        "code": code.encode(),
        "relationship": invitation.relationship,
        "expires_at": iso(invitation.expires_at),
    }


@router.delete("/residents/{resident_id}/circle/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    resident_id: str = id_path(),
    invitation_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: IdentityDeps = Depends(deps),
) -> Response:
    await circles.revoke_invitation(resident_id, invitation_id, principal=principal, deps=d)
    return Response(status_code=204)


async def optional_principal(request: Request) -> Principal | None:
    if request.headers.get("authorization") is None:
        return None
    return await current_principal(request)


@router.post("/circle/join", status_code=201)
async def join(
    cmd: JoinCircle,
    principal: Principal | None = Depends(optional_principal),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    """Accept an invitation: as a new account (council, email, password, display name),
    or, signed in, with the caller's existing account."""
    user, relationship = await circles.join(cmd, principal=principal, deps=d)
    resident_id = cmd.code.strip().partition(".")[0]
    return {"user": user_json(user), "resident_id": resident_id, "relationship": relationship}


@router.get("/residents/{resident_id}/circle")
async def view_circle(
    resident_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    view = await circles.view_circle(resident_id, principal=principal, deps=d)
    circle = view.circle
    body: dict[str, Any] = {
        "resident_id": circle.resident_id,
        "members": [
            {
                "member_id": m.member_id,
                "display_name": u.display_name if (u := view.members.get(m.member_id)) else None,
                "role": u.role if u else None,
                "relationship": m.relationship,
                "consent_by": m.consent_by,
                "consent_basis": m.consent_basis,
                "added_at": iso(m.added_at),
            }
            for m in circle.members
        ],
    }
    if view.manager:
        now = d.clock()
        body["invitations"] = [
            {
                "invitation_id": i.id,
                "relationship": i.relationship,
                "invited_by": i.invited_by,
                "status": "expired" if i.status == "pending" and not i.is_open(now) else i.status,
                "expires_at": iso(i.expires_at),
            }
            for i in circle.invitations
        ]
        body["audit"] = [
            {
                "at": iso(a.at),
                "action": a.action,
                "actor_id": a.actor_id,
                "member_id": a.member_id,
                "invitation_id": a.invitation_id,
                "relationship": a.relationship,
            }
            for a in circle.audit
        ]
    return body


@router.delete("/residents/{resident_id}/circle/{member_id}", status_code=204)
async def remove_member(
    resident_id: str = id_path(),
    member_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: IdentityDeps = Depends(deps),
) -> Response:
    await circles.remove_member(resident_id, member_id, principal=principal, deps=d)
    return Response(status_code=204)
