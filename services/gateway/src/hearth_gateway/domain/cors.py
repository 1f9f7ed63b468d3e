"""Cross-origin rules, configured per council.

Configuration maps a tenant slug to the browser origins allowed for it; the key `*` lists
origins allowed for every tenant. Preflights carry no token, so they are answered for an
origin allowed for any tenant (or for the tenant named in `X-Hearth-Tenant`); the real
request then gets `Access-Control-Allow-Origin` only when the origin is allowed for the
tenant of its access token (or, on public routes, for the tenant it names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ALL_TENANTS = "*"
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "authorization",
        "content-type",
        "content-language",
        "idempotency-key",
        "if-match",
        "if-none-match",
        "traceparent",
        "tracestate",
        "x-hearth-tenant",
        "x-request-id",
    }
)
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "ETag", "Location")


def _normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


@dataclass(frozen=True)
class PreflightAnswer:
    allowed: bool
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CorsPolicy:
    by_tenant: Mapping[str, frozenset[str]] = field(default_factory=dict)
    max_age: int = 600
    allow_credentials: bool = False

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Iterable[str]],
        *,
        max_age: int = 600,
        allow_credentials: bool = False,
    ) -> CorsPolicy:
        table = {
            tenant: frozenset(_normalise_origin(o) for o in origins if o.strip())
            for tenant, origins in config.items()
        }
        return cls(table, max_age, allow_credentials)

    @property
    def enabled(self) -> bool:
        return any(self.by_tenant.values())

    def allows(self, origin: str, tenant: str | None) -> bool:
        """Origin allowed for this tenant (or, with tenant None, for all tenants)."""
        key = _normalise_origin(origin)
        if key in self.by_tenant.get(ALL_TENANTS, ()):
            return True
        return tenant is not None and key in self.by_tenant.get(tenant, ())

    def allows_any_tenant(self, origin: str) -> bool:
        key = _normalise_origin(origin)
        return any(key in origins for origins in self.by_tenant.values())

    def response_headers(self, origin: str, tenant: str | None) -> list[tuple[str, str]]:
        """Headers for an actual (non-preflight) response; empty when not allowed."""
        if not self.allows(origin, tenant):
            return [("vary", "Origin")]
        headers = [
            ("access-control-allow-origin", origin),
            ("access-control-expose-headers", ", ".join(EXPOSED_HEADERS)),
            ("vary", "Origin"),
        ]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        return headers

    def preflight(
        self, origin: str, method: str, request_headers: str, tenant: str | None
    ) -> PreflightAnswer:
        allowed_origin = self.allows(origin, tenant) if tenant else self.allows_any_tenant(origin)
        if not allowed_origin:
            return PreflightAnswer(False, "origin not allowed")
        if method.upper() not in ALLOWED_METHODS:
            return PreflightAnswer(False, f"method {method!r} not allowed")
        asked = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
        refused = [h for h in asked if h not in ALLOWED_HEADERS]
        if refused:
            return PreflightAnswer(False, f"headers not allowed: {', '.join(refused)}")
        headers: list[tuple[str, str]] = [
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", ", ".join(ALLOWED_METHODS)),
            ("access-control-max-age", str(self.max_age)),
            ("vary", "Origin"),
        ]
        if asked:
            headers.append(("access-control-allow-headers", ", ".join(asked)))
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        return PreflightAnswer(True, "", tuple(headers))
