"""The chat WebSocket, `/v1/chat/ws` (through the gateway, which verifies the token
first and passes it on as an Authorization header).

The token comes as `Authorization: Bearer ...` or, from a browser talking to chat
directly, `?access_token=...`. Frames are JSON text (protocol in `domain.frames`).
Server frames:
  {"type": "ready", "user_id", "expires_at", "limits": {...}}
  {"type": "subscribed", "conversation_id", "after_seq", "last_seq"}
  {"type": "message", "conversation_id", "message": {... "seq": n ...}}
  {"type": "message_updated", "conversation_id", "message": {...}}   (edit or delete)
  {"type": "typing", "conversation_id", "user_id"}
  {"type": "ack", "ref", "message": {...}}       (a `send` was stored)
  {"type": "read", "ref", "conversation_id", "seq"}
  {"type": "auth_ok", "ref", "expires_at"}
  {"type": "pong", "ref"}
  {"type": "error", "code", "message", "ref"?, "retry_after"?}
Close codes: 4401 token missing, refused or expired (error code `unauthenticated`); 4403
access changed (deactivated, role changed, left a circle; a token issued before such a
change is refused) or a role that does not chat (error code `forbidden`); 4429 flooding;
1003 binary frame; 1007 invalid UTF-8 (refused by the protocol layer); 1008 too many
malformed frames; 1009 frame too large; 1013 too far behind (reconnect and resume), or
access could not be checked (`unavailable`); 1001 server shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from hearth_chat.adapters.hub import (
    ACCESS_CHANGED,
    CLOSE_ACCESS_REVOKED,
    CLOSE_POLICY,
    CLOSE_RATE_LIMITED,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED_DATA,
)
from hearth_chat.domain.access import Actor
from hearth_chat.domain.frames import (
    Auth,
    ClientFrame,
    FrameError,
    Ping,
    Read,
    Send,
    Subscribe,
    Typing,
    Unsubscribe,
    parse_frame,
)
from hearth_chat.domain.ratelimit import TokenBucket
from hearth_chat.entrypoints.views import message_json
from hearth_chat.entrypoints.ws_admission import access_changed, admit
from hearth_chat.entrypoints.ws_connection import Connection, SocketLimits
from hearth_chat.handlers import conversations, live, messages
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.auth import Principal, TokenError, TokenVerifier
from hearth_kit.errors import DomainError
from hearth_kit.http import iso
from hearth_kit.store import StoreError

log = logging.getLogger("hearth.chat.ws")

router = APIRouter()
SUBPROTOCOL = "hearth.chat.v1"


@router.websocket("/v1/chat/ws")
async def chat_socket(websocket: WebSocket) -> None:
    deps: ChatDeps = websocket.app.state.chat
    limits: SocketLimits = websocket.app.state.socket_limits
    verifier: TokenVerifier = websocket.app.state.token_verifier
    offered = websocket.scope.get("subprotocols") or []
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
    admitted = await admit(websocket, deps, verifier, subprotocol)
    if admitted is None:
        return
    principal, token = admitted
    await websocket.accept(subprotocol=subprotocol)
    connection = Connection(
        websocket,
        actor=Actor.of(principal),
        token=token,
        expires_at=principal.expires_at,
        issued_at=principal.issued_at,
        session_id=principal.session_id,
        deps=deps,
        limits=limits,
    )
    await Session(connection, verifier).run()


class Session:
    def __init__(self, connection: Connection, verifier: TokenVerifier) -> None:
        self.c = connection
        self.verifier = verifier
        limits = connection.limits
        self.bucket = TokenBucket(limits.frames_per_second, limits.frame_burst)
        self.bad_frames = 0
        self.limited = 0
        self.throttle = live.TypingThrottle()

    @property
    def deps(self) -> ChatDeps:
        return self.c.deps

    async def run(self) -> None:
        c = self.c
        hub = self.deps.hub
        metrics = self.deps.metrics
        hub.connect(c)
        metrics.sockets.inc()
        if hub.revocations.refuses(c.tenant_id, c.user_id, c.issued_at):
            # Access changed while this socket was being let in (too late for the hub to
            # close it): close it now.
            c.close(CLOSE_ACCESS_REVOKED, ACCESS_CHANGED)
        limits = c.limits
        c.send(
            {
                "type": "ready",
                "user_id": c.user_id,
                "expires_at": iso(c.expires_at),
                "limits": {
                    "max_frame_bytes": limits.max_frame_bytes,
                    "frames_per_second": limits.frames_per_second,
                    "frame_burst": limits.frame_burst,
                    "max_message_chars": self.deps.limits.max_message_chars,
                },
            }
        )
        tasks = [
            asyncio.ensure_future(self.read()),
            asyncio.ensure_future(c.writer()),
            asyncio.ensure_future(c.pump()),
            asyncio.ensure_future(self.expiry()),
            asyncio.ensure_future(c.closed.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
                    log.warning("chat socket ended with an error", exc_info=exc)
                    c.close(1011, "internal error")
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            hub.disconnect(c)
            metrics.sockets.dec()
            await self._close()

    async def _close(self) -> None:
        c = self.c
        if c.websocket.application_state != WebSocketState.CONNECTED:
            return
        if c.websocket.client_state != WebSocketState.CONNECTED:
            return
        await c.drain()
        code, reason = c.closing or (1000, "")
        with contextlib.suppress(Exception):
            await c.websocket.close(code, reason)

    async def expiry(self) -> None:
        while True:
            wait = self.c.expires_at - time.time()
            if wait <= 0:
                self.c.close(CLOSE_TOKEN_EXPIRED, "token expired")
                return
            await asyncio.sleep(min(wait, 60.0))

    def _error(self, code: str, message: str, ref: str | None = None, **extra: Any) -> None:
        self.deps.metrics.frames_refused.labels(code).inc()
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if ref is not None:
            frame["ref"] = ref
        frame.update(extra)
        self.c.send(frame)

    async def read(self) -> None:
        c = self.c
        limits = c.limits
        while True:
            message = await c.websocket.receive()
            if message["type"] == "websocket.disconnect":
                c.close(1000, "")
                return
            text = message.get("text")
            if text is None:
                self.deps.metrics.frames_refused.labels("binary").inc()
                c.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not accepted; send JSON text")
                return
            if len(text) * 4 > limits.max_frame_bytes and (
                len(text.encode("utf-8", "surrogatepass")) > limits.max_frame_bytes
            ):
                self.deps.metrics.frames_refused.labels("too_big").inc()
                c.close(CLOSE_TOO_BIG, f"frames are at most {limits.max_frame_bytes} bytes")
                return
            wait = self.bucket.take(time.monotonic())
            if wait > 0:
                self.limited += 1
                if self.limited > limits.frame_burst:
                    self.deps.metrics.frames_refused.labels("flood").inc()
                    c.close(CLOSE_RATE_LIMITED, "too many frames; slow down and reconnect")
                    return
                self._error(
                    "rate_limited", "too many frames; slow down", retry_after=round(wait, 3)
                )
                continue
            self.limited = 0
            try:
                frame = parse_frame(text)
            except FrameError as exc:
                self.bad_frames += 1
                self._error(exc.code, exc.message, exc.ref)
                if self.bad_frames >= limits.max_bad_frames:
                    c.close(CLOSE_POLICY, "too many malformed frames")
                    return
                continue
            await self.handle(frame)
            if c.closing is not None:
                return

    async def handle(self, frame: ClientFrame) -> None:
        try:
            await self._dispatch(frame)
        except DomainError as exc:
            self._error(exc.code, exc.message, frame.ref)
        except StoreError:
            log.exception("store error while handling a chat frame")
            self._error("unavailable", "could not do that right now; retry", frame.ref)

    async def _dispatch(self, frame: ClientFrame) -> None:
        c = self.c
        deps = self.deps
        if isinstance(frame, Ping):
            c.send({"type": "pong", "ref": frame.ref})
        elif isinstance(frame, Subscribe):
            await self._subscribe(frame)
        elif isinstance(frame, Unsubscribe):
            c.unfollow(frame.conversation_id)
            deps.hub.unfollow(c, frame.conversation_id)
            c.send(
                {"type": "unsubscribed", "ref": frame.ref, "conversation_id": frame.conversation_id}
            )
        elif isinstance(frame, Send):
            message, _ = await messages.post_message(
                frame.text,
                frame.conversation_id,
                actor=c.actor,
                deps=deps,
                client_ref=frame.ref,
                token=c.token,
            )
            c.send(
                {
                    "type": "ack",
                    "ref": frame.ref,
                    "message": message_json(message, staff=c.actor.is_staff),
                }
            )
        elif isinstance(frame, Read):
            view = await conversations.mark_read(
                frame.conversation_id, frame.seq, actor=c.actor, deps=deps, token=c.token
            )
            c.send(
                {
                    "type": "read",
                    "ref": frame.ref,
                    "conversation_id": frame.conversation_id,
                    "seq": view.read_seq,
                }
            )
        elif isinstance(frame, Typing):
            conversation = c.conversations.get(frame.conversation_id)
            if conversation is None:
                self._error("not_subscribed", "subscribe to the conversation first", frame.ref)
                return
            await live.typing(conversation, actor=c.actor, deps=deps, throttle=self.throttle)
        elif isinstance(frame, Auth):
            await self._reauthenticate(frame)

    async def _subscribe(self, frame: Subscribe) -> None:
        c = self.c
        for conversation_id, after_seq in frame.conversations:
            if conversation_id not in c.conversations and (
                len(c.conversations) >= c.limits.max_subscriptions
            ):
                self._error(
                    "too_many_subscriptions",
                    f"follow at most {c.limits.max_subscriptions} conversations at once",
                    frame.ref,
                )
                return
            try:
                conversation, start = await live.follow(
                    conversation_id, after_seq, actor=c.actor, deps=self.deps, token=c.token
                )
            except DomainError as exc:
                self._error(exc.code, exc.message, frame.ref, conversation_id=conversation_id)
                continue
            self.deps.hub.follow(c, conversation_id)
            c.send(
                {
                    "type": "subscribed",
                    "ref": frame.ref,
                    "conversation_id": conversation_id,
                    "after_seq": start,
                    "last_seq": conversation.last_seq,
                }
            )
            c.follow(conversation, start)

    async def _reauthenticate(self, frame: Auth) -> None:
        c = self.c
        try:
            principal: Principal = await self.verifier.verify(frame.token)
        except TokenError as exc:
            self._error("invalid_token", f"access token refused: {exc.reason}", frame.ref)
            return
        if principal.user_id != c.user_id or principal.tenant_id != c.tenant_id:
            c.close(CLOSE_TOKEN_EXPIRED, "a token for someone else")
            return
        if principal.roles != c.actor.roles:
            c.close(CLOSE_ACCESS_REVOKED, "your roles changed; reconnect")
            return
        if await access_changed(principal, self.deps):
            c.close(CLOSE_ACCESS_REVOKED, ACCESS_CHANGED)
            return
        c.token = frame.token
        c.issued_at = principal.issued_at
        c.session_id = principal.session_id
        c.expires_at = max(c.expires_at, principal.expires_at)
        c.send({"type": "auth_ok", "ref": frame.ref, "expires_at": iso(c.expires_at)})
