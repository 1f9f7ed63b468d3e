"""One keep-alive HTTP/1.1 connection to a service: the asyncio protocol and its errors."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from typing import cast

import httptools

Header = tuple[bytes, bytes]
HIGH_WATER = 256 * 1024  # buffered response bytes before reading pauses


class UpstreamError(Exception):
    """The service could not be reached or did not answer properly."""


class ConnectFailed(UpstreamError):
    pass


class ConnectTimedOut(UpstreamError):
    pass


class PoolTimedOut(UpstreamError):
    pass


class ReadTimedOut(UpstreamError):
    pass


class WriteTimedOut(UpstreamError):
    pass


class ConnectionDropped(UpstreamError):
    """The service closed the connection or sent something that is not HTTP."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    write: float
    pool: float


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._write_paused = False
        self._drain: asyncio.Future[None] | None = None
        self.begin(head_only=False)

    def begin(self, head_only: bool) -> None:
        self.head_only = head_only
        self.status = 0
        self.headers: list[Header] = []
        self.framed = False  # Content-Length or chunked: the end is known without EOF
        self.head_done = False
        self.complete = False
        self.reusable = True
        self.error: UpstreamError | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(ConnectionDropped("invalid HTTP response"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head_done and not self.complete and not self.framed and self.error is None:
            self.complete = True  # body delimited by the end of the connection
            self._wake()
        elif not self.complete:
            self._fail(ConnectionDropped("connection closed before the response ended"))
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length" or (name == b"transfer-encoding" and b"chunked" in value):
            self.framed = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # interim response (100 Continue and the like): wait for the real one
            self.headers = []
            self.framed = False
            return
        self.status = status
        self.head_done = True
        if not self.parser.should_keep_alive():
            self.reusable = False
        if self.head_only:
            self.complete = True
            self.reusable = False  # the parser would wait for a body HEAD never has
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.complete:
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True
            self._wake()

    # -- helpers
    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        self.reusable = False
        self._wake()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    async def wait(self, seconds: float, error: UpstreamError) -> None:
        waiter = self.loop.create_future()
        self.waiter = waiter
        handle = self.loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        except TimeoutError:
            self._fail(error)
            self.close()
        finally:
            handle.cancel()
            self.waiter = None

    async def write(self, data: bytes, seconds: float) -> None:
        if self.closed or self.transport is None:
            raise ConnectionDropped("connection closed while sending the request")
        self.transport.write(data)
        if self._write_paused:
            self._drain = self.loop.create_future()
            handle = self.loop.call_later(seconds, _expire, self._drain)
            try:
                await self._drain
            except TimeoutError:
                self.close()
                raise WriteTimedOut("service did not take the request body in time") from None
            finally:
                handle.cancel()
                self._drain = None
            if self.closed:
                raise ConnectionDropped("connection closed while sending the request")


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
