"""Shared pieces of the chat benchmarks: a stack of real processes, two people of the demo
council in a direct conversation, a chat WebSocket client, steady pacing and the table.

Imported by bench_chat_delivery.py and bench_flag_alert.py (not a benchmark itself), after
they put this folder on `sys.path`; the figures' helpers are in common.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hearth_devstack.seed import login
from hearth_devstack.stack import Stack
from hearth_devstack.testing import running_stack

SUBPROTOCOL = "hearth.chat.v1"
# Chat allows 5 frames/s per connection (burst 30) by default; a steady bench sender
# needs more, so the bench raises it and says so.
CHAT_FRAMES_PER_SECOND = 100
QUIET = "WARNING"  # per-request logging would cost the services more than the work itself


def service_env(services: Sequence[str]) -> dict[str, dict[str, str]]:
    env = {name: {f"{name.upper()}_LOG_LEVEL": QUIET} for name in services}
    env.setdefault("chat", {}).update(
        {
            "CHAT_WS_FRAMES_PER_SECOND": str(CHAT_FRAMES_PER_SECOND),
            "CHAT_WS_FRAME_BURST": str(CHAT_FRAMES_PER_SECOND * 2),
        }
    )
    return env


@contextmanager
def chat_stack(folder: Path, services: Sequence[str]) -> Iterator[Stack]:
    """Broker plus `services` as real processes in `folder`; stopped on exit (also on
    Ctrl-C or an error: `running_stack` stops every process it started)."""
    with running_stack(folder, list(services), service_env=service_env(services)) as stack:
        yield stack
        # A replica that crashed and came back would explain odd figures.
        for crash in stack.crashes:
            print(f"note: {crash.message}\n{crash.log_tail}")


# ---------------------------------------------------------------- people
@dataclass(frozen=True)
class Person:
    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class ChatPair:
    """A resident and an on-call member of staff of the demo council, and their direct
    conversation (staff may talk directly with anyone of their council)."""

    resident: Person
    staff: Person
    conversation_id: str


def chat_pair(stack: Stack) -> ChatPair:
    """Seed the demo council through the gateway, sign both in, open their conversation."""
    creds = stack.seed_demo().credentials
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        people = {}
        for role in ("resident", "oncall"):
            who = creds.users[role]
            assert who.user_id is not None, f"the demo {role} has no user id"
            people[role] = Person(who.user_id, login(client, who))
        started = client.post(
            "/v1/conversations",
            json={"kind": "direct", "with_user_id": people["resident"].id},
            headers=people["oncall"].auth,
        )
        if started.status_code not in (200, 201):
            raise RuntimeError(f"could not start a conversation: {started.text}")
        return ChatPair(people["resident"], people["oncall"], started.json()["id"])


# ---------------------------------------------------------------- WebSocket client
def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/v1/chat/ws"


class ChatSocket:
    """One chat connection. `on_message(text, arrived)` sees every `message` frame the
    moment it is read; other frames wait in a queue for `expect`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.on_message: Callable[[str, float], None] | None = None
        self.errors: list[dict[str, Any]] = []
        self._frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, token: str) -> ChatSocket:
        ws = await connect(
            url,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            additional_headers={"Authorization": f"Bearer {token}"},
            proxy=None,
            open_timeout=15,
        )
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise RuntimeError(f"{url} did not agree to {SUBPROTOCOL} ({ws.subprotocol!r})")
        socket = cls(ws)
        await socket.expect("ready")
        return socket

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                arrived = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message" and self.on_message is not None:
                    self.on_message(frame["message"]["text"], arrived)
                elif kind == "error":
                    self.errors.append(frame)
                elif kind != "message":
                    await self._frames.put(frame)
        except ConnectionClosed as exc:
            self.errors.append({"type": "closed", "code": exc.rcvd.code if exc.rcvd else None})

    async def expect(self, kind: str, within: float = 15) -> dict[str, Any]:
        """The next frame of `kind` (acks and others in between are dropped)."""
        async with asyncio.timeout(within):
            while True:
                frame = await self._frames.get()
                if frame.get("type") == kind:
                    return frame

    async def subscribe(self, conversation_id: str) -> None:
        await self.ws.send(
            json.dumps({"type": "subscribe", "conversations": [{"id": conversation_id}]})
        )
        await self.expect("subscribed")

    async def send(self, conversation_id: str, text: str, ref: str) -> None:
        frame = {"type": "send", "conversation_id": conversation_id, "text": text, "ref": ref}
        await self.ws.send(json.dumps(frame))

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


# ---------------------------------------------------------------- pacing and figures
async def paced(count: int, rate: float, start: Callable[[int], None]) -> None:
    """Call `start(i)` for i in range(count) at `rate` per second on a fixed schedule
    (open loop: a slow answer does not delay the next send)."""
    began = time.perf_counter()
    for i in range(count):
        wait = began + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        start(i)


# Chat's figures are a few milliseconds: shown in ms with one decimal.
MS_TABLE = Table("milliseconds", width=52, scale=1000, digits=1)
