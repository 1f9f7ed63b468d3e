"""Letting a WebSocket in: a valid access token, a role that chats, and access that has
not changed since the token was issued. A refusal is accepted, told in an error frame
and closed, so the client learns why (a refused handshake tells a browser nothing).

Error codes: `unauthenticated` for a missing, invalid or expired token (close 4401: get a
new token); `forbidden` when the token is good but its holder may not chat (close 4403).
"""

from __future__ import annotations

import logging

from fastapi import WebSocket

from hearth_chat.adapters.hub import (
    ACCESS_CHANGED,
    CLOSE_ACCESS_REVOKED,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TRY_AGAIN,
)
from hearth_chat.domain.access import CHAT_ROLES
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.auth import Principal, TokenError, TokenVerifier
from hearth_kit.store import StoreError

log = logging.getLogger("hearth.chat.ws")


def bearer_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return websocket.query_params.get("access_token") or None


async def refuse(
    websocket: WebSocket, subprotocol: str | None, close: int, code: str, reason: str
) -> None:
    await websocket.accept(subprotocol=subprotocol)
    await websocket.send_json({"type": "error", "code": code, "message": reason})
    await websocket.close(close, reason[:120])


async def access_changed(principal: Principal, deps: ChatDeps) -> bool:
    """Whether the person's access changed after their token was issued: a change this
    replica heard of, or a deactivation chat's directory knows (one this replica missed,
    say because it started afterwards). StoreError if the directory cannot answer."""
    tenant, user = principal.tenant_id, principal.user_id
    if deps.hub.revocations.refuses(tenant, user, principal.issued_at):
        return True
    person = await deps.repos.directory.person(tenant, user)
    return person is not None and not person.active


async def admit(
    websocket: WebSocket, deps: ChatDeps, verifier: TokenVerifier, subprotocol: str | None
) -> tuple[Principal, str] | None:
    """(principal, token) of a socket that may chat; None once it has been refused."""
    token = bearer_token(websocket)
    if token is None:
        await refuse(
            websocket, subprotocol, CLOSE_TOKEN_EXPIRED, "unauthenticated", "missing access token"
        )
        return None
    try:
        principal = await verifier.verify(token)
    except TokenError as exc:
        reason = f"access token refused: {exc.reason}"
        await refuse(websocket, subprotocol, CLOSE_TOKEN_EXPIRED, "unauthenticated", reason)
        return None
    if principal.roles.isdisjoint(CHAT_ROLES):
        await refuse(
            websocket, subprotocol, CLOSE_ACCESS_REVOKED, "forbidden", "your role does not use chat"
        )
        return None
    try:
        changed = await access_changed(principal, deps)
    except StoreError:
        log.exception("could not check a person's access for a chat socket")
        await refuse(
            websocket,
            subprotocol,
            CLOSE_TRY_AGAIN,
            "unavailable",
            "could not check your access right now; retry",
        )
        return None
    if changed:
        await refuse(websocket, subprotocol, CLOSE_ACCESS_REVOKED, "forbidden", ACCESS_CHANGED)
        return None
    return principal, token
