"""FastAPI dependencies that authenticate the caller and check roles.

Services verify the token again even behind the gateway (defence in depth). Tenancy is
enforced by scoping every repository call by `principal.tenant_id`: a caller can never
name another council's data, only fail to find it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from hearth_kit.auth import Principal, TokenError, TokenVerifier
from hearth_kit.http.errors import ApiError
from hearth_kit.logging import log_context


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(
            401,
            "unauthenticated",
            "missing access token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthenticated",
            "authorization must be 'Bearer <access token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    token = bearer_token(request)
    try:
        principal = await verifier.verify(token)
    except TokenError as exc:
        raise ApiError(
            401,
            "invalid_token",
            f"access token refused: {exc.reason}",
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.reason}"'  # noqa: E501
            },
        ) from exc
    request.state.principal = principal
    return principal


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold one of `roles` (platform admins are not implied)."""
    allowed = frozenset(roles)

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.roles.isdisjoint(allowed):
            raise ApiError(
                403, "forbidden", f"requires one of the roles: {', '.join(sorted(allowed))}"
            )
        with log_context(tenant_id=principal.tenant_id):
            return principal

    return dependency
