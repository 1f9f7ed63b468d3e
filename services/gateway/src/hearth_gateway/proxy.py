"""The HTTP proxy path: a raw ASGI handler, lean because every public request crosses it.

Order of work for one request: route (404), CORS preflight, rate limit per IP, access
token (401/403), rate limit per user, size limit (413), then relay to the owning service
(503/504 when it is down or slow). Refusals use the shared error shape.
"""

from __future__ import annotations

import json
import time

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from starlette.types import Receive, Scope, Send

from hearth_gateway.adapters import Upstreams
from hearth_gateway.domain.cors import CorsPolicy
from hearth_gateway.domain.forwarding import (
    Header,
    child_traceparent,
    request_id,
    upstream_request_headers,
)
from hearth_gateway.domain.routes import InvalidPath, Kind, RouteMatch, match_route
from hearth_gateway.handlers import Guard
from hearth_gateway.metrics import GatewayMetrics
from hearth_gateway.relay import ClientGone, forward, too_large
from hearth_gateway.settings import GatewaySettings
from hearth_kit.auth import Principal
from hearth_kit.http import ApiError, error_body
from hearth_kit.logging import log_context
from hearth_kit.tracing import extract_context

_JSON = (b"content-type", b"application/json")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def send_error(send: Send, err: ApiError, extra: list[Header]) -> None:
    body = json.dumps(error_body(err.code, err.message, err.details)).encode()
    headers = [_JSON, (b"content-length", str(len(body)).encode()), *extra]
    headers.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items()
    )
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def cors_headers(cors: CorsPolicy, origin: str, tenant: str | None) -> list[Header]:
    pairs = cors.response_headers(origin, tenant)
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


class HttpProxy:
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
        self.limit = settings.max_body_bytes
        self.trust_forwarded = bool(settings.trusted_proxies)
        self.stream_read_timeout = settings.stream_read_timeout
        self.tracer = trace.get_tracer("hearth.gateway") if settings.trace_requests else None

    def _hop_traceparent(
        self, method: str, route: str, incoming: str | None
    ) -> tuple[Span | None, str]:
        """The traceparent for the upstream hop, from the gateway's own span when tracing."""
        if self.tracer is not None:
            context = extract_context({"traceparent": incoming}) if incoming else None
            span = self.tracer.start_span(
                f"{method} {route}", context=context, kind=SpanKind.SERVER
            )
            if span.is_recording():
                sc = span.get_span_context()
                return span, f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}"
            span.end()
        return None, child_traceparent(incoming)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        authorization = tenant = origin = incoming_id = incoming_trace = None
        preflight_method = preflight_headers = None
        content_length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"x-request-id":
                incoming_id = value.decode("latin-1")
            elif name == b"traceparent":
                incoming_trace = value.decode("latin-1")
            elif name == b"x-hearth-tenant":
                tenant = value.decode("latin-1").strip()
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"access-control-request-method":
                preflight_method = value.decode("latin-1")
            elif name == b"access-control-request-headers":
                preflight_headers = value.decode("latin-1")
        rid = request_id(incoming_id)
        extra: list[Header] = [(b"x-request-id", rid.encode())]
        principal: Principal | None = None
        match: RouteMatch | None = None
        span: Span | None = None
        status = 500
        with log_context(request_id=rid):
            try:
                try:
                    match = match_route(path)
                except InvalidPath as exc:
                    raise ApiError(400, "bad_path", str(exc)) from exc
                if match is None:
                    raise ApiError(404, "not_found", "no Hearth API route matches this path")
                if method == "OPTIONS" and origin is not None and preflight_method is not None:
                    status = await self._preflight(
                        send, extra, origin, preflight_method, preflight_headers or "", tenant
                    )
                    return
                if match.kind is Kind.WEBSOCKET:
                    raise ApiError(
                        426,
                        "upgrade_required",
                        "this route accepts WebSocket connections only",
                        headers={"Upgrade": "websocket"},
                    )
                client = scope.get("client")
                principal = await self.guard.admit(
                    method=method,
                    path=path,
                    client_ip=client[0] if client else "unknown",
                    authorization=authorization,
                    tenant_header=tenant,
                )
                if origin is not None:
                    extra += cors_headers(
                        self.cors, origin, principal.tenant_slug if principal else tenant
                    )
                    origin = None  # added
                upstream = self.upstreams.get(match.service.value)
                if upstream is None:
                    raise ApiError(503, "unavailable", f"{match.service.value} service unavailable")
                declared = self._declared_length(content_length)
                span, traceparent = self._hop_traceparent(method, match.pattern, incoming_trace)
                query: bytes = scope["query_string"]
                target: bytes = scope.get("raw_path") or path.encode()
                if query:
                    target += b"?" + query
                status = await forward(
                    upstream=upstream,
                    method=method,
                    target=target,
                    headers=upstream_request_headers(
                        scope["headers"],
                        request_id=rid,
                        traceparent=traceparent,
                        client_ip=client[0] if client else None,
                        scheme=scope.get("scheme", "http"),
                        trust_forwarded=self.trust_forwarded,
                    ),
                    receive=receive,
                    send=send,
                    declared=declared,
                    chunked=chunked,
                    limit=self.limit,
                    extra=extra,
                    read_timeout=self.stream_read_timeout if match.kind is Kind.STREAM else None,
                )
            except ApiError as err:
                status = err.status
                if origin is not None:
                    tenant_for_cors = principal.tenant_slug if principal else tenant
                    extra += cors_headers(self.cors, origin, tenant_for_cors)
                self.metrics.refused(err.code)
                await send_error(send, err, extra)
            except ClientGone:
                status = 499
            finally:
                if span is not None:
                    span.set_attribute("http.response.status_code", status)
                    span.end()
                self.metrics.observe(
                    match.service.value if match else "none",
                    match.pattern if match else "unmatched",
                    method if method in _METHODS else "OTHER",
                    status,
                    time.perf_counter() - start,
                )

    async def _preflight(
        self,
        send: Send,
        extra: list[Header],
        origin: str,
        method: str,
        requested_headers: str,
        tenant: str | None,
    ) -> int:
        answer = self.cors.preflight(origin, method, requested_headers, tenant)
        if not answer.allowed:
            raise ApiError(403, "cors_refused", f"cross-origin request refused: {answer.reason}")
        headers = extra + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        headers.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return 204

    def _declared_length(self, content_length: bytes | None) -> int | None:
        if content_length is None:
            return None
        if not content_length.isdigit() or len(content_length) > 18:
            raise ApiError(400, "bad_request", "Content-Length must be a non-negative integer")
        declared = int(content_length)
        if declared > self.limit:
            raise too_large(self.limit)
        return declared
