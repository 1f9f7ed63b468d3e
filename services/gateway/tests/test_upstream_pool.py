"""The proxy's pooled HTTP/1.1 client against real local sockets, including broken servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from hearth_devstack.broker import free_port
from hearth_gateway.upstream import (
    ConnectFailed,
    ConnectionDropped,
    PoolTimedOut,
    ReadTimedOut,
    Timeouts,
    UpstreamPool,
)

TIMEOUTS = Timeouts(connect=1.0, read=1.0, write=1.0, pool=0.3)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class RawServer:
    """A TCP server whose handler gets each connection and its number."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer, self.connections)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        body = b""
        lower = head.lower()
        if b"content-length:" in lower:
            length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
        elif b"transfer-encoding: chunked" in lower:
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        self.requests.append(head + body)
        return head + body


def ok(body: bytes = b"hello", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def read_all(pool: UpstreamPool, method: str = "GET", **kwargs: object) -> tuple[int, bytes]:
    response = await pool.request(method, b"/x", [(b"accept", b"*/*")], **kwargs)  # type: ignore[arg-type]
    try:
        return response.status, await response.read()
    finally:
        await response.aclose()


async def test_keep_alive_connections_are_reused() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            await server.read_request(r)
            w.write(ok(b"conn %d" % n))

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        assert await read_all(pool) == (200, b"conn 1")
        assert await read_all(pool) == (200, b"conn 1")
        assert server.connections == 1
        assert server.requests[0].startswith(b"GET /x HTTP/1.1\r\nhost: 127.0.0.1:")
        await pool.aclose()


async def test_chunked_and_close_delimited_responses() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(r)
        w.write(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        await server.read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
        await w.drain()
        w.close()

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        assert await read_all(pool) == (200, b"abcde")
        assert await read_all(pool) == (200, b"until the end")
        assert server.connections == 1
        assert pool.stats()["idle"] == 0  # a close-delimited connection is not reused
        await pool.aclose()


async def test_request_bodies_whole_declared_and_chunked() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            request = await server.read_request(r)
            w.write(ok(request.split(b"\r\n\r\n", 1)[1]))

    async def stream() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        assert await read_all(pool, "POST", body=b'{"a": 1}') == (200, b'{"a": 1}')
        assert b"content-length: 8\r\n" in server.requests[-1]
        assert await read_all(pool, "PUT", body=stream(), content_length=18) == (
            200,
            b"part one, part two",
        )
        assert b"content-length: 18\r\n" in server.requests[-1]
        assert await read_all(pool, "POST", body=stream()) == (200, b"part one, part two")
        assert b"transfer-encoding: chunked" in server.requests[-1]
        assert await read_all(pool, "POST", body=None) == (200, b"")
        assert b"content-length: 0\r\n" in server.requests[-1]
        await pool.aclose()


async def test_connection_refused_fails_at_once() -> None:
    pool = UpstreamPool(f"http://127.0.0.1:{free_port()}", TIMEOUTS)
    with pytest.raises(ConnectFailed):
        await asyncio.wait_for(read_all(pool), 2)
    assert pool.stats()["total"] == 0


async def test_silent_server_times_out_reading() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(r)
        await asyncio.sleep(5)

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        with pytest.raises(ReadTimedOut):
            await read_all(pool, read_timeout=0.2)
        assert pool.stats()["total"] == 0


async def test_pool_limit_waits_then_times_out() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            await server.read_request(r)
            w.write(ok())

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS, max_connections=1)
        held = await pool.request("GET", b"/x", [])
        with pytest.raises(PoolTimedOut):
            await read_all(pool)
        # Releasing the held connection hands it to the next waiter.
        waiting = asyncio.ensure_future(read_all(pool))
        await asyncio.sleep(0.05)
        await held.read()
        await held.aclose()
        assert await waiting == (200, b"hello")
        assert server.connections == 1
        await pool.aclose()


async def test_reused_connection_closed_by_the_service_is_retried_when_safe() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(r)
        w.write(ok(b"first on %d" % n))
        await w.drain()
        await server.read_request(r)  # the second request on a connection: hang up
        w.transport.abort()

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        assert await read_all(pool) == (200, b"first on 1")
        assert await read_all(pool, retry=True) == (200, b"first on 2")
        with pytest.raises(ConnectionDropped):
            await read_all(pool, "POST", body=b"x", retry=False)
        await pool.aclose()


async def test_garbage_response_is_a_dropped_connection() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(r)
        w.write(b"SSH-2.0-OpenSSH\r\n\r\n")

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        with pytest.raises(ConnectionDropped):
            await read_all(pool)
        await pool.aclose()


async def test_head_and_interim_responses() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            request = await server.read_request(r)
            if request.startswith(b"HEAD"):
                w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n")
            else:
                w.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final"))

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        assert await read_all(pool, "HEAD") == (200, b"")
        assert await read_all(pool) == (200, b"final")
        await pool.aclose()


async def test_early_answer_stops_the_request_body() -> None:
    sent: list[int] = []

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await r.readuntil(b"\r\n\r\n")
        w.write(b"HTTP/1.1 413 Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await w.drain()
        await asyncio.sleep(0.3)

    async def slow_stream() -> AsyncIterator[bytes]:
        for i in range(20):
            sent.append(i)
            yield b"x" * 100
            await asyncio.sleep(0.02)

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        status, _ = await read_all(pool, "POST", body=slow_stream())
        assert status == 413
        assert len(sent) < 20
        await pool.aclose()


async def test_large_bodies_stream_with_back_pressure() -> None:
    size = 3 * 1024 * 1024

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        await server.read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
        for _ in range(size // 65536):
            w.write(b"y" * 65536)
            await w.drain()

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS)
        response = await pool.request("GET", b"/big", [])
        total = 0
        async for chunk in response.iter_body():
            total += len(chunk)
            await asyncio.sleep(0)
        await response.aclose()
        assert total == size
        await pool.aclose()


async def test_a_discarded_connection_frees_its_slot_for_a_waiter() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> None:
        while True:
            await server.read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345")  # half a body

    async with RawServer(handler) as server:
        pool = UpstreamPool(server.url, TIMEOUTS, max_connections=1)
        held = await pool.request("GET", b"/x", [])
        waiting = asyncio.ensure_future(pool.request("GET", b"/y", []))
        await asyncio.sleep(0.05)
        await held.aclose()  # body unfinished: the connection cannot be reused
        second = await waiting
        assert pool.stats() == {"total": 1, "idle": 0, "waiting": 0}
        await second.aclose()
        assert server.connections == 2
        assert pool.stats()["total"] == 0
        await pool.aclose()
