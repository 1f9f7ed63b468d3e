"""Carry one admitted request to its service and the answer back, streaming both bodies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from starlette.types import Message, Receive, Send

from hearth_gateway.adapters import Upstream
from hearth_gateway.domain.forwarding import Header, downstream_response_headers
from hearth_gateway.upstream import (
    ConnectFailed,
    ConnectTimedOut,
    PoolTimedOut,
    ReadTimedOut,
    UpstreamError,
    UpstreamResponse,
    WriteTimedOut,
)
from hearth_kit.http import ApiError

log = logging.getLogger("hearth.gateway")

SMALL_RESPONSE = 64 * 1024  # answered in one ASGI message when Content-Length is this or less
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"request body exceeds {limit} bytes",
        headers={"Connection": "close"},
    )


def upstream_failure(service: str, exc: UpstreamError) -> ApiError:
    """The clear answer for a service that is down, slow or broken."""
    if isinstance(exc, ConnectFailed | ConnectTimedOut):
        return ApiError(503, "unavailable", f"{service} service unavailable: {exc}")
    if isinstance(exc, PoolTimedOut):
        return ApiError(503, "unavailable", f"{service} service busy: {exc}")
    if isinstance(exc, ReadTimedOut | WriteTimedOut):
        return ApiError(504, "upstream_timeout", f"{service} service did not answer in time")
    return ApiError(502, "bad_gateway", f"{service} service failed: {exc}")


async def read_body(
    receive: Receive, declared: int | None, chunked: bool, limit: int
) -> bytes | AsyncIterator[bytes] | None:
    """The whole body when it came in one piece, else a stream that enforces `limit`."""
    if declared is None and not chunked:
        return None
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    first: bytes = message.get("body", b"")
    if len(first) > limit:
        raise too_large(limit)
    if not message.get("more_body", False):
        return first
    return _stream_body(receive, first, limit)


async def _stream_body(receive: Receive, first: bytes, limit: int) -> AsyncIterator[bytes]:
    received = len(first)
    yield first
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def forward(
    *,
    upstream: Upstream,
    method: str,
    target: bytes,
    headers: list[Header],
    receive: Receive,
    send: Send,
    declared: int | None,
    chunked: bool,
    limit: int,
    extra: list[Header],
    read_timeout: float | None = None,
) -> int:
    """Send the request upstream, relay the response; returns the status sent."""
    body = await read_body(receive, declared, chunked, limit)
    try:
        response = await upstream.pool.request(
            method,
            target,
            headers,
            body,
            content_length=declared,
            read_timeout=read_timeout,
            retry=method in _IDEMPOTENT and not isinstance(body, AsyncIterator),
        )
    except BodyTooLarge as exc:
        raise too_large(limit) from exc
    except UpstreamError as exc:
        raise upstream_failure(upstream.name, exc) from exc
    try:
        return await _relay(receive, send, response, extra, upstream.name)
    finally:
        await response.aclose()


async def _relay(
    receive: Receive, send: Send, response: UpstreamResponse, extra: list[Header], service: str
) -> int:
    headers = downstream_response_headers(response.headers)
    headers.extend(extra)
    start: Message = {"type": "http.response.start", "status": response.status, "headers": headers}
    length = response.header(b"content-length")
    if length is not None and length.isdigit() and int(length) <= SMALL_RESPONSE:
        try:
            body = await response.read()
        except UpstreamError as exc:
            raise upstream_failure(service, exc) from exc
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return response.status
    await send(start)
    if length is not None:
        await _pump(send, response, service)
    else:  # open-ended (server-sent events): stop when the caller hangs up
        await _until_disconnect(receive, _pump(send, response, service))
    return response.status


async def _pump(send: Send, response: UpstreamResponse, service: str) -> None:
    try:
        async for chunk in response.iter_body():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamError as exc:
        # The status line is gone already: all that is left is to cut the response short.
        log.warning(
            "upstream response cut short",
            extra={"fields": {"upstream": service, "reason": f"{type(exc).__name__}: {exc}"}},
        )
        raise
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnect(receive: Receive, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` (streaming a response) but stop it when the caller hangs up."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watcher):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
    if task.done() and not task.cancelled():
        task.result()
