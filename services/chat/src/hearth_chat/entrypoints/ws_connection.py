"""One chat WebSocket connection: what it follows, what it has sent, its send queue.

Delivery is pull-based: a notification only records "news up to seq N" for a
conversation; the connection's pump then reads, from the store, every message after the
last one it sent, and queues them in order. So duplicate, late or reordered
notifications (the local fast path and the replica feed both notify) are harmless, and
resuming is the same operation as live delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketState

from hearth_chat.adapters.hub import CLOSE_TRY_AGAIN
from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation
from hearth_chat.entrypoints.views import message_json
from hearth_chat.handlers import live
from hearth_chat.handlers.context import ChatDeps

log = logging.getLogger("hearth.chat.ws")

CATCH_UP_PAGE = 100
_EVERYTHING = 2**62
_DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class SocketLimits:
    max_frame_bytes: int = 16 * 1024
    frames_per_second: float = 5.0
    frame_burst: int = 30
    send_queue: int = 1000
    max_subscriptions: int = 200
    max_bad_frames: int = 10


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        actor: Actor,
        token: str,
        expires_at: float,
        deps: ChatDeps,
        limits: SocketLimits,
        issued_at: float = 0.0,
        session_id: str | None = None,
    ) -> None:
        self.websocket = websocket
        self.actor = actor
        self.tenant_id = actor.tenant_id
        self.user_id = actor.user_id
        self.token = token
        self.expires_at = expires_at
        # When the token in use was issued: one older than a change of access is refused.
        self.issued_at = issued_at
        self.session_id = session_id
        self.deps = deps
        self.limits = limits
        self.conversations: dict[str, Conversation] = {}
        self._sent: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._changed: dict[str, set[str]] = defaultdict(set)
        self._wake = asyncio.Event()
        self._out: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=limits.send_queue)
        self.closing: tuple[int, str] | None = None
        self.closed = asyncio.Event()

    # ---- the hub's side (LiveClient) ----------------------------------------------------
    def posted(self, conversation_id: str, seq: int) -> None:
        sent = self._sent.get(conversation_id)
        if sent is None or seq <= sent:
            return
        self._pending[conversation_id] = max(seq, self._pending.get(conversation_id, 0))
        self._wake.set()

    def changed(self, conversation_id: str, message_id: str, seq: int) -> None:
        sent = self._sent.get(conversation_id)
        if sent is None:
            return
        if seq > sent:
            # Not sent yet: the catch-up sends its current state.
            self.posted(conversation_id, seq)
            return
        self._changed[conversation_id].add(message_id)
        self._wake.set()

    def typing(self, conversation_id: str, user_id: str) -> None:
        self.send({"type": "typing", "conversation_id": conversation_id, "user_id": user_id})

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason[:120])
        self.closed.set()

    # ---- following ----------------------------------------------------------------------
    def follow(self, conversation: Conversation, start_seq: int) -> None:
        self.conversations[conversation.id] = conversation
        self._sent[conversation.id] = start_seq
        # Look once in the store whatever the notifications say: a message stored between
        # reading the start and joining the hub is not missed.
        self._pending[conversation.id] = _EVERYTHING
        self._wake.set()

    def unfollow(self, conversation_id: str) -> None:
        self.conversations.pop(conversation_id, None)
        self._sent.pop(conversation_id, None)
        self._pending.pop(conversation_id, None)
        self._changed.pop(conversation_id, None)

    # ---- sending ------------------------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        if self.closing is not None:
            return
        try:
            self._out.put_nowait(frame)
        except asyncio.QueueFull:
            # A client this far behind reconnects and resumes from its last seq.
            self.close(CLOSE_TRY_AGAIN, "too far behind; reconnect and resume")

    async def writer(self) -> None:
        while True:
            frame = await self._out.get()
            await self.websocket.send_text(json.dumps(frame, ensure_ascii=False))

    async def drain(self) -> None:
        """Send what is queued (before a close), for at most a second."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_DRAIN_SECONDS):
                while not self._out.empty():
                    frame = self._out.get_nowait()
                    if self.websocket.application_state != WebSocketState.CONNECTED:
                        return
                    await self.websocket.send_text(json.dumps(frame, ensure_ascii=False))

    async def pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            for conversation_id in list(self._pending):
                await self._catch_up(conversation_id)
            for conversation_id in list(self._changed):
                await self._send_changes(conversation_id)

    async def _catch_up(self, conversation_id: str) -> None:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            self._pending.pop(conversation_id, None)
            return
        if not await live.still_visible(conversation, self.actor, deps=self.deps):
            self.unfollow(conversation_id)
            self.send(
                {
                    "type": "error",
                    "code": "unsubscribed",
                    "conversation_id": conversation_id,
                    "message": "you no longer see this conversation",
                }
            )
            return
        target = self._pending.pop(conversation_id, 0)
        while conversation_id in self._sent and self.closing is None:
            after = self._sent[conversation_id]
            batch = await live.catch_up(
                conversation_id, after, actor=self.actor, deps=self.deps, limit=CATCH_UP_PAGE
            )
            for message in batch:
                self.send(
                    {
                        "type": "message",
                        "conversation_id": conversation_id,
                        "message": message_json(message, staff=self.actor.is_staff),
                    }
                )
                self._sent[conversation_id] = message.seq
                self.deps.metrics.delivered.inc()
            if len(batch) < CATCH_UP_PAGE or self._sent[conversation_id] >= target:
                return

    async def _send_changes(self, conversation_id: str) -> None:
        for message_id in sorted(self._changed.pop(conversation_id, set())):
            message = await live.changed_message(message_id, actor=self.actor, deps=self.deps)
            if message is None or message.conversation_id != conversation_id:
                continue
            self.send(
                {
                    "type": "message_updated",
                    "conversation_id": conversation_id,
                    "message": message_json(message, staff=self.actor.is_staff),
                }
            )
