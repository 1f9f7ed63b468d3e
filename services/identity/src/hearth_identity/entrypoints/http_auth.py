"""Routes: sign in, refresh, logout, JWKS, key rotation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from hearth_identity.commands import Logout, Refresh, SignIn
from hearth_identity.entrypoints.common import deps, iso
from hearth_identity.handlers import auth
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.auth import Principal
from hearth_kit.http import require_roles

router = APIRouter(prefix="/v1/auth", tags=["auth"])
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _tokens(pair: auth.TokenPair, response: Response) -> dict[str, Any]:
    response.headers.update(_NO_STORE)
    return asdict(pair)


@router.post("/token")
async def token(cmd: SignIn, response: Response, d: IdentityDeps = Depends(deps)) -> dict[str, Any]:
    """Council slug, email and password to an access token and a refresh token."""
    return _tokens(await auth.sign_in(cmd, deps=d), response)


@router.post("/refresh")
async def refresh(
    cmd: Refresh, response: Response, d: IdentityDeps = Depends(deps)
) -> dict[str, Any]:
    """A new pair for a refresh token, which is used up (rotation)."""
    return _tokens(await auth.refresh(cmd, deps=d), response)


@router.post("/logout", status_code=204)
async def logout(cmd: Logout, d: IdentityDeps = Depends(deps)) -> Response:
    await auth.logout(cmd, deps=d)
    return Response(status_code=204)


@router.get("/jwks")
async def jwks(response: Response, d: IdentityDeps = Depends(deps)) -> dict[str, Any]:
    """Public keys that verify access tokens (Ed25519, EdDSA)."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return await d.keyring.current_jwks()


@router.post("/keys/rotate", status_code=201)
async def rotate_keys(
    request: Request,
    principal: Principal = Depends(require_roles("platform_admin")),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    """A new signing key signs from now on; old keys stay published while tokens they
    signed may still be valid."""
    key = await auth.rotate_keys(principal=principal, deps=d)
    await request.app.state.token_verifier.refresh_keys()
    return {"kid": key.kid, "created_at": iso(key.created_at)}
