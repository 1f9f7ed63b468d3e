"""The WebSocket proxy: verify before accepting, then pipe frames both ways.

Browsers cannot set headers on a WebSocket, so the token may come as `?access_token=`.
The upstream connection carries the token as an Authorization header (the service
verifies it again), the request id and trace context. The connection is closed with
code 4401 when the token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hearth_gateway.adapters import Upstreams
from hearth_gateway.domain.cors import CorsPolicy
from hearth_gateway.domain.forwarding import child_traceparent, request_id
from hearth_gateway.domain.routes import InvalidPath, Kind, match_route
from hearth_gateway.handlers import Guard
from hearth_gateway.metrics import GatewayMetrics
from hearth_gateway.settings import GatewaySettings
from hearth_kit.auth import Principal
from hearth_kit.http import ApiError, error_body
from hearth_kit.logging import log_context

log = logging.getLogger("hearth.gateway")

CLOSE_TOKEN_EXPIRED = 4401
_UNSENDABLE_CODES = frozenset({1005, 1006, 1015})
_FORWARDED_HEADERS = frozenset({b"accept-language", b"user-agent", b"x-hearth-tenant"})


def _close_code(code: int | None) -> int:
    if code is None or code in _UNSENDABLE_CODES:
        return 1000
    return code


class WebSocketProxy:
    def __init__(
        self,
        *,
        settings: GatewaySettings,
        guard: Guard,
        upstreams: Upstreams,
        cors: CorsPolicy,
        metrics: GatewayMetrics,
    ) -> None:
        self.settings = settings
        self.guard = guard
        self.upstreams = upstreams
        self.cors = cors
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        headers = {k: v.decode("latin-1") for k, v in scope["headers"]}
        rid = request_id(headers.get(b"x-request-id"))
        with log_context(request_id=rid):
            try:
                principal, upstream_ws = await self._open(scope, headers, rid)
            except ApiError as err:
                self.metrics.refused(err.code)
                await self._deny(scope, send, err, rid)
                return
            async with upstream_ws:
                await send(
                    {
                        "type": "websocket.accept",
                        "subprotocol": upstream_ws.subprotocol,
                        "headers": [(b"x-request-id", rid.encode())],
                    }
                )
                await self._pipe(receive, send, upstream_ws, principal)

    async def _open(
        self, scope: Scope, headers: dict[bytes, str], rid: str
    ) -> tuple[Principal, ClientConnection]:
        path: str = scope["path"]
        try:
            match = match_route(path)
        except InvalidPath as exc:
            raise ApiError(400, "bad_path", str(exc)) from exc
        if match is None or match.kind is not Kind.WEBSOCKET:
            raise ApiError(404, "not_found", "no WebSocket route matches this path")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_token = (query.get("access_token") or [None])[0]
        client = scope.get("client")
        tenant = headers.get(b"x-hearth-tenant")
        principal = await self.guard.admit(
            method="GET",
            path=path,
            client_ip=client[0] if client else "unknown",
            authorization=headers.get(b"authorization"),
            tenant_header=tenant.strip() if tenant else None,
            query_token=query_token,
        )
        if principal is None:  # pragma: no cover - WebSocket routes are never public
            raise ApiError(401, "unauthenticated", "missing access token")
        origin = headers.get(b"origin")
        if origin and self.cors.enabled and not self.cors.allows(origin, principal.tenant_slug):
            raise ApiError(403, "cors_refused", "origin not allowed for this council")
        upstream = self.upstreams.get(match.service.value)
        if upstream is None:
            raise ApiError(503, "unavailable", f"{match.service.value} service unavailable")
        token = headers.get(b"authorization") or f"Bearer {query_token}"
        forward = [(k.decode(), v) for k, v in scope["headers"] if k in _FORWARDED_HEADERS]
        forward += [
            ("Authorization", token),
            ("X-Request-ID", rid),
            ("traceparent", child_traceparent(headers.get(b"traceparent"))),
            ("X-Forwarded-For", client[0] if client else "unknown"),
        ]
        url = upstream.ws_base_url + (scope.get("raw_path") or path.encode()).decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        subprotocols = [p.strip() for p in scope.get("subprotocols", []) if p.strip()]
        name = match.service.value
        try:
            ws = await connect(
                url,
                additional_headers=forward,
                subprotocols=subprotocols or None,
                open_timeout=self.settings.ws_open_timeout,
                max_size=self.settings.ws_max_message_bytes,
                proxy=None,
                user_agent_header=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403, 404):
                raise ApiError(status, "refused", f"{name} service refused the connection") from exc
            raise ApiError(502, "bad_gateway", f"{name} service refused the connection") from exc
        except TimeoutError as exc:
            raise ApiError(
                504, "upstream_timeout", f"{name} service did not answer in time"
            ) from exc
        except (OSError, InvalidHandshake) as exc:
            raise ApiError(503, "unavailable", f"{name} service unavailable") from exc
        return principal, ws

    async def _deny(self, scope: Scope, send: Send, err: ApiError, rid: str) -> None:
        if "websocket.http.response" in scope.get("extensions", {}):
            body = json.dumps(error_body(err.code, err.message, err.details)).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
            ]
            headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
            await send(
                {"type": "websocket.http.response.start", "status": err.status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": err.message[:120]})

    async def _pipe(
        self, receive: Receive, send: Send, upstream: ClientConnection, principal: Principal
    ) -> None:
        closed = False

        async def close_client(code: int, reason: str) -> None:
            nonlocal closed
            if not closed:
                closed = True
                await send({"type": "websocket.close", "code": code, "reason": reason})

        async def client_to_upstream() -> None:
            nonlocal closed
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    text = message.get("text")
                    await upstream.send(text if text is not None else message.get("bytes") or b"")
                elif kind == "websocket.disconnect":
                    closed = True
                    await upstream.close(_close_code(message.get("code")))
                    return

        async def upstream_to_client() -> None:
            try:
                async for data in upstream:
                    if isinstance(data, str):
                        await send({"type": "websocket.send", "text": data})
                    else:
                        await send({"type": "websocket.send", "bytes": data})
            except ConnectionClosed:
                pass
            await close_client(_close_code(upstream.close_code), upstream.close_reason or "")

        async def token_expiry() -> None:
            await asyncio.sleep(max(0.0, principal.expires_at - time.time()))
            await close_client(CLOSE_TOKEN_EXPIRED, "token expired")
            await upstream.close(1000, "token expired")

        tasks = [
            asyncio.ensure_future(client_to_upstream()),
            asyncio.ensure_future(upstream_to_client()),
            asyncio.ensure_future(token_expiry()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                    await task
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, ConnectionClosed | OSError):
                log.warning("websocket proxy ended with an error", exc_info=exc)
