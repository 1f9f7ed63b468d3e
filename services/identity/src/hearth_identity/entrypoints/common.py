"""What every identity route shares: the handler dependencies, domain errors as HTTP
answers, JSON views of aggregates, and a request body size limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hearth_identity.domain import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    LockedOut,
    NotFoundError,
    Tenant,
    User,
)
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.http import error_body


def id_path() -> Any:
    """Every id in a path: bounded and plain, so nothing odd reaches the store. (A new
    parameter object each time: FastAPI names each after the parameter it describes.)"""
    return Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


MAX_BODY_BYTES = 64 * 1024

_STATUS: list[tuple[type[DomainError], int]] = [
    (LockedOut, 429),
    (AuthenticationFailed, 401),
    (InvalidInput, 422),
    (Forbidden, 403),
    (NotFoundError, 404),
    (Conflict, 409),
    (Gone, 410),
]


def deps(request: Request) -> IdentityDeps:
    found: IdentityDeps = request.app.state.identity
    return found


def install_domain_errors(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
        details = [{"field": exc.field, "reason": exc.message}] if exc.field else []
        headers: dict[str, str] = {}
        if isinstance(exc, LockedOut):
            headers["Retry-After"] = str(exc.retry_after)
        elif isinstance(exc, AuthenticationFailed):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            error_body(exc.code, exc.message, details), status_code=status, headers=headers
        )


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            error_body("payload_too_large", f"request body over {self.limit} bytes"),
            status_code=413,
        )
        await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def user_json(user: User, *, viewer: User | None = None) -> dict[str, Any]:
    """A user as others see them; the email only for themselves and administrators."""
    body: dict[str, Any] = {
        "id": user.id,
        "tenant_id": user.tenant_id,
        "display_name": user.display_name,
        "role": user.role,
        "roles": [user.role],
        "status": user.status,
        "created_at": iso(user.created_at),
    }
    if viewer is None or viewer.id == user.id or viewer.role in ("council_admin", "platform_admin"):
        body["email"] = user.email
    if user.role == "resident":
        body["responsible_professional_id"] = user.responsible_id
    return body


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "created_at": iso(tenant.created_at),
    }
