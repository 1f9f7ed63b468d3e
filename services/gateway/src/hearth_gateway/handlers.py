"""Admission of one request: rate limits, access token, tenant header.

Plain async functions and a small guard object; the ASGI layer calls `Guard.admit` before
anything is sent upstream and turns `ApiError` into the shared error shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hearth_gateway.domain.forwarding import bearer_token
from hearth_gateway.domain.ratelimit import BucketPolicy, Decision, RateLimiter
from hearth_gateway.domain.routes import is_login, is_public
from hearth_gateway.settings import GatewaySettings
from hearth_kit.auth import Principal, TokenError, TokenVerifier
from hearth_kit.http import ApiError

_WWW_AUTHENTICATE = "Bearer"
# Reasons that mean "cannot check tokens now", not "this token is bad".
_UNAVAILABLE_REASONS = frozenset({"signing keys unavailable"})


def rate_limited(decision: Decision, message: str) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        message,
        details=[{"field": "retry_after", "reason": decision.retry_after_header}],
        headers={"Retry-After": decision.retry_after_header},
    )


def unauthenticated(message: str, code: str = "unauthenticated") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": _WWW_AUTHENTICATE})


@dataclass
class Guard:
    verifier: TokenVerifier
    ip_limiter: RateLimiter
    user_limiter: RateLimiter
    login_limiter: RateLimiter
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def from_settings(cls, settings: GatewaySettings, verifier: TokenVerifier) -> Guard:
        max_keys = settings.rate_limit_max_keys
        return cls(
            verifier=verifier,
            ip_limiter=RateLimiter(
                BucketPolicy(settings.ip_rate, settings.ip_burst), max_keys=max_keys
            ),
            user_limiter=RateLimiter(
                BucketPolicy(settings.user_rate, settings.user_burst), max_keys=max_keys
            ),
            login_limiter=RateLimiter(
                BucketPolicy(settings.login_rate, settings.login_burst), max_keys=max_keys
            ),
        )

    async def admit(
        self,
        *,
        method: str,
        path: str,
        client_ip: str,
        authorization: str | None,
        tenant_header: str | None,
        query_token: str | None = None,
    ) -> Principal | None:
        """The caller, or None on a public route; raises ApiError to refuse."""
        now = self.clock()
        decision = self.ip_limiter.take(client_ip, now)
        if not decision.allowed:
            raise rate_limited(decision, "too many requests from this address")
        if is_public(method, path):
            if is_login(method, path):
                decision = self.login_limiter.take(client_ip, now)
                if not decision.allowed:
                    raise rate_limited(decision, "too many sign-in attempts from this address")
            return None
        principal = await self.authenticate(authorization, query_token)
        if tenant_header is not None and tenant_header != principal.tenant_slug:
            raise ApiError(403, "wrong_tenant", "token belongs to another council")
        decision = self.user_limiter.take(principal.user_id, now)
        if not decision.allowed:
            raise rate_limited(decision, "too many requests for this user")
        return principal

    async def authenticate(self, authorization: str | None, query_token: str | None) -> Principal:
        if authorization:
            token = bearer_token(authorization)
            if token is None:
                raise unauthenticated("authorization must be 'Bearer <access token>'")
        elif query_token:
            token = query_token
        else:
            raise unauthenticated("missing access token")
        try:
            return await self.verifier.verify(token)
        except TokenError as exc:
            if exc.reason in _UNAVAILABLE_REASONS:
                raise ApiError(
                    503, "unavailable", "cannot verify tokens now: identity service unavailable"
                ) from exc
            raise unauthenticated(f"access token refused: {exc.reason}", "invalid_token") from exc
