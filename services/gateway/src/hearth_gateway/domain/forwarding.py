"""Headers across one proxy hop: request ids, W3C trace context, forwarding, hop-by-hop.

Headers are (name, value) pairs of bytes with lower-case names, as ASGI delivers them.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable

Header = tuple[bytes, bytes]

# Connection-level headers that must not cross a proxy (RFC 9110 section 7.6.1); on
# requests also `host`, the body framing and the forwarding headers, which the gateway sets.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_REPLACED_ON_REQUEST = _HOP_BY_HOP | {
    b"host",
    b"content-length",  # set by the gateway for the body it actually sends
    b"expect",  # the gateway answers 100-continue itself
    b"x-request-id",
    b"traceparent",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"forwarded",
    b"x-real-ip",
}
# The gateway alone decides cross-origin policy and request ids on responses.
_REPLACED_ON_RESPONSE = _HOP_BY_HOP | {b"x-request-id", b"server", b"date"}
_CORS_PREFIX = b"access-control-"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def request_id(incoming: str | None) -> str:
    """The caller's request id when it is safe to log and forward, else a new one."""
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def child_traceparent(incoming: str | None) -> str:
    """A traceparent for the next hop: same trace (or a new one), a new span id.

    Follows W3C Trace Context: version 00 fields, an unknown higher version is read by
    its first four fields, all-zero ids and version ff are invalid.
    """
    trace_id = None
    flags = "01"
    if incoming:
        m = _TRACEPARENT.match(incoming.strip())
        if m is not None:
            version, tid, sid, fl = m.groups()
            valid_version = version != "ff" and (version != "00" or len(incoming.strip()) == 55)
            if valid_version and tid != _ZERO_TRACE and sid != _ZERO_SPAN:
                trace_id, flags = tid, fl
    if trace_id is None:
        trace_id = os.urandom(16).hex()
    span_id = os.urandom(8).hex()
    return f"00-{trace_id}-{span_id}-{flags}"


def trace_id_of(traceparent: str) -> str:
    return traceparent[3:35]


def forwarded_for(existing: bytes | None, client_ip: str | None) -> bytes:
    """X-Forwarded-For for the upstream: the chain so far plus the caller's address."""
    ip = (client_ip or "unknown").encode()
    if existing:
        return existing + b", " + ip
    return ip


def upstream_request_headers(
    headers: Iterable[Header],
    *,
    request_id: str,
    traceparent: str,
    client_ip: str | None,
    scheme: str,
    trust_forwarded: bool,
) -> list[Header]:
    """The caller's headers without hop-by-hop ones, plus the gateway's hop headers."""
    out: list[Header] = []
    existing_xff: bytes | None = None
    host: bytes | None = None
    for name, value in headers:
        if name in _REPLACED_ON_REQUEST:
            if name == b"x-forwarded-for" and trust_forwarded:
                existing_xff = value
            elif name == b"host":
                host = value
            continue
        out.append((name, value))
    out.append((b"x-request-id", request_id.encode()))
    out.append((b"traceparent", traceparent.encode()))
    out.append((b"x-forwarded-for", forwarded_for(existing_xff, client_ip)))
    out.append((b"x-forwarded-proto", scheme.encode()))
    if host is not None:
        out.append((b"x-forwarded-host", host))
    return out


def downstream_response_headers(headers: Iterable[Header]) -> list[Header]:
    """Upstream response headers fit to pass back to the caller."""
    return [
        (name, value)
        for name, value in headers
        if name not in _REPLACED_ON_RESPONSE and not name.startswith(_CORS_PREFIX)
    ]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None
