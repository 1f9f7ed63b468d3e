"""Admission of one request: limits, token, tenant (the guard on its own, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from hearth_gateway.domain.ratelimit import BucketPolicy, RateLimiter
from hearth_gateway.handlers import Guard
from hearth_kit.auth import TokenVerifier
from hearth_kit.http import ApiError
from hearth_kit.testing import TEST_ISSUER, TokenSigner


class DownJwks:
    async def fetch(self) -> dict[str, Any]:
        raise ValueError("identity is down")


def guard(verifier: TokenVerifier, *, ip: int = 100, user: int = 100, login: int = 100) -> Guard:
    return Guard(
        verifier=verifier,
        ip_limiter=RateLimiter(BucketPolicy(1.0, ip)),
        user_limiter=RateLimiter(BucketPolicy(1.0, user)),
        login_limiter=RateLimiter(BucketPolicy(1.0, login)),
        clock=lambda: 0.0,
    )


async def admit(g: Guard, token: str | None, **kwargs: Any) -> Any:
    defaults: dict[str, Any] = {
        "method": "GET",
        "path": "/v1/me",
        "client_ip": "10.0.0.1",
        "authorization": f"Bearer {token}" if token else None,
        "tenant_header": None,
    }
    return await g.admit(**(defaults | kwargs))


async def test_admits_a_valid_token_and_returns_the_principal() -> None:
    signer = TokenSigner()
    principal = await admit(guard(signer.verifier()), signer.token(user_id="u-9"))
    assert principal.user_id == "u-9"
    assert principal.tenant_slug == "council-a"


async def test_public_route_needs_no_token() -> None:
    assert (
        await admit(guard(TokenSigner().verifier()), None, method="POST", path="/v1/auth/token")
        is None
    )


async def test_identity_unreachable_is_503_not_401() -> None:
    signer = TokenSigner()
    g = guard(TokenVerifier(DownJwks(), issuer=TEST_ISSUER))
    with pytest.raises(ApiError) as refused:
        await admit(g, signer.token())
    assert refused.value.status == 503
    assert "identity service unavailable" in refused.value.message


async def test_query_token_is_used_only_without_a_header() -> None:
    signer = TokenSigner()
    g = guard(signer.verifier())
    principal = await admit(g, None, query_token=signer.token(user_id="from-query"))
    assert principal.user_id == "from-query"
    with pytest.raises(ApiError) as refused:
        await admit(g, "garbage", query_token=signer.token())
    assert refused.value.status == 401


async def test_ip_limit_applies_before_the_token_is_checked() -> None:
    g = guard(TokenSigner().verifier(), ip=1)
    with pytest.raises(ApiError):
        await admit(g, "garbage")  # 401, but it took the address's only token
    with pytest.raises(ApiError) as refused:
        await admit(g, "garbage")
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "1"}


async def test_login_limit_is_separate_and_per_address() -> None:
    g = guard(TokenSigner().verifier(), login=1)
    await admit(g, None, method="POST", path="/v1/auth/token")
    with pytest.raises(ApiError) as refused:
        await admit(g, None, method="POST", path="/v1/auth/token")
    assert refused.value.status == 429
    await admit(g, None, method="POST", path="/v1/auth/token", client_ip="10.0.0.2")
    await admit(g, None, method="POST", path="/v1/auth/refresh")
