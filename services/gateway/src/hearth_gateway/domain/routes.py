"""Which service owns a public /v1 path, and which routes need no token.

The table is ordered: the first matching rule wins, so more specific rules come first
(`/v1/users/{id}/contact-methods` belongs to alerts although `/v1/users/{id}` belongs to
identity). A pattern segment `{name}` matches any one non-empty segment; a trailing `*`
matches the path itself or anything below it (`/v1/tenants*` matches `/v1/tenants` and
`/v1/tenants/x/y`, not `/v1/tenantsx`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

API_PREFIX = "/v1"


class Service(StrEnum):
    IDENTITY = "identity"
    CHECKINS = "checkins"
    ALERTS = "alerts"
    CHAT = "chat"


class Kind(StrEnum):
    HTTP = "http"
    STREAM = "stream"  # long-lived HTTP response (server-sent events)
    WEBSOCKET = "websocket"


@dataclass(frozen=True)
class RouteRule:
    pattern: str
    service: Service
    kind: Kind
    segments: tuple[str | None, ...]  # None stands for a `{param}` segment
    prefix: bool


@dataclass(frozen=True)
class RouteMatch:
    service: Service
    kind: Kind
    pattern: str


class InvalidPath(ValueError):
    """A path that could mean different things to the gateway and to a service."""


def rule(pattern: str, service: Service, kind: Kind = Kind.HTTP) -> RouteRule:
    prefix = pattern.endswith("*")
    body = pattern.rstrip("*").rstrip("/")
    segments = tuple(
        None if part.startswith("{") and part.endswith("}") else part
        for part in body.split("/")[1:]
    )
    return RouteRule(pattern, service, kind, segments, prefix)


ROUTES: tuple[RouteRule, ...] = (
    rule("/v1/users/{id}/contact-methods*", Service.ALERTS),
    rule("/v1/auth/*", Service.IDENTITY),
    rule("/v1/me", Service.IDENTITY),
    rule("/v1/users", Service.IDENTITY),
    rule("/v1/users/{id}", Service.IDENTITY),
    rule("/v1/users/{id}/role", Service.IDENTITY),
    rule("/v1/users/{id}/deactivate", Service.IDENTITY),
    rule("/v1/residents/{id}/circle*", Service.IDENTITY),
    rule("/v1/circle/*", Service.IDENTITY),
    rule("/v1/tenants*", Service.IDENTITY),
    rule("/v1/residents/{id}/checkin-schedule*", Service.CHECKINS),
    rule("/v1/residents/{id}/checkins*", Service.CHECKINS),
    rule("/v1/residents/{id}/help", Service.CHECKINS),
    rule("/v1/alerts/stream", Service.ALERTS, Kind.STREAM),
    rule("/v1/alerts*", Service.ALERTS),
    rule("/v1/oncall*", Service.ALERTS),
    rule("/v1/escalation-policies*", Service.ALERTS),
    rule("/v1/chat/ws", Service.CHAT, Kind.WEBSOCKET),
    rule("/v1/conversations*", Service.CHAT),
    rule("/v1/support*", Service.CHAT),
    rule("/v1/safeguarding*", Service.CHAT),
)

# (method, path) pairs a caller may use without an access token.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/v1/auth/token"),
        ("POST", "/v1/auth/refresh"),
        ("POST", "/v1/auth/logout"),
        ("GET", "/v1/auth/jwks"),
        ("HEAD", "/v1/auth/jwks"),
        ("POST", "/v1/circle/join"),
    }
)

# The route whose per-IP bucket is stricter (password guessing).
LOGIN_ROUTE = ("POST", "/v1/auth/token")


def split_path(path: str) -> tuple[str, ...]:
    """Segments of a decoded path; refuse dot segments and empty inner segments."""
    if not path.startswith("/"):
        raise InvalidPath("path must start with '/'")
    if path == "/":
        return ()
    parts = path[1:].split("/")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing slash is tolerated
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidPath("path has empty or dot segments")
    return tuple(parts)


def _matches(r: RouteRule, parts: tuple[str, ...]) -> bool:
    n = len(r.segments)
    if len(parts) < n or (len(parts) > n and not r.prefix):
        return False
    for want, got in zip(r.segments, parts, strict=False):
        if want is not None and want != got:
            return False
    return True


def match_route(path: str, routes: tuple[RouteRule, ...] = ROUTES) -> RouteMatch | None:
    """The owning service of a decoded path, or None when no service owns it."""
    parts = split_path(path)
    for r in routes:
        if _matches(r, parts):
            return RouteMatch(r.service, r.kind, r.pattern)
    return None


def is_public(method: str, path: str) -> bool:
    normalised = path.rstrip("/") or "/"
    return (method.upper(), normalised) in PUBLIC_ROUTES


def is_login(method: str, path: str) -> bool:
    return (method.upper(), path.rstrip("/")) == LOGIN_ROUTE
