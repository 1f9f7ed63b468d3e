"""Real local receivers for tests and benchmarks of the alerts service (never imported by
the service itself): an HTTP server for webhooks and the SMS provider, and an SMTP server.

They are real network servers on 127.0.0.1, so the channels under test speak real HTTP
and SMTP; each records what arrived and when.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hearth_devstack.broker import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class HttpReceiver:
    """A small HTTP/1.1 server recording every POST. `statuses` are answered in turn
    (then `default_status`), so tests can make a receiver fail a given number of times."""

    def __init__(self, *, default_status: int = 200) -> None:
        self.default_status = default_status
        self.statuses: list[int] = []
        self.received: list[Received] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> HttpReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HttpReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.statuses.pop(0) if self.statuses else self.default_status
                self.received.append(Received(path, headers, body, time.time()))
                self._changed.set()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\n\r\n{}".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def wait_for(
        self, predicate: Callable[[Received], bool], *, count: int = 1, within: float = 10.0
    ) -> list[Received]:
        """The first `count` requests matching `predicate`, waiting up to `within` seconds."""
        deadline = time.monotonic() + within
        found: list[Received] = []
        scanned = 0
        while True:
            arrived = len(self.received)
            found.extend(r for r in self.received[scanned:arrived] if predicate(r))
            scanned = arrived
            if len(found) >= count:
                return found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(found)} of {count} expected requests arrived")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    content: bytes
    at: float


@dataclass
class SmtpReceiver:
    """A real SMTP server (aiosmtpd, in its own thread) recording every message."""

    messages: list[Mail] = field(default_factory=list)
    port: int = 0
    # Recipients the server refuses with 550 (a permanent failure).
    refuse: set[str] = field(default_factory=set)
    _controller: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address.lower() in receiver.refuse:
                    return "550 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                with receiver._lock:
                    receiver.messages.append(
                        Mail(
                            envelope.mail_from,
                            list(envelope.rcpt_tos),
                            envelope.content,
                            time.time(),
                        )
                    )
                return "250 Message accepted"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(
        self, predicate: Callable[[Mail], bool], *, count: int = 1, within: float = 10.0
    ) -> list[Mail]:
        deadline = time.monotonic() + within
        while True:
            with self._lock:
                found = [m for m in self.messages if predicate(m)]
            if len(found) >= count:
                return found[:count]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(found)} of {count} expected emails arrived")
            await asyncio.sleep(0.02)
