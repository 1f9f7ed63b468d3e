"""Verify Hearth access tokens (EdDSA JWTs) against identity's published JWKS.

Verified tokens are cached until they expire, so a hot path pays one dictionary lookup;
an unknown key id triggers one JWKS refresh (rate-limited), so key rotation needs no
restart anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import jwt
from jwt import PyJWK

from hearth_kit.auth.principal import ROLES, Principal

log = logging.getLogger("hearth.auth")

ACCESS_TOKEN_AUDIENCE = "hearth"
_ALGORITHMS = ["EdDSA"]
# Unknown key ids (a rotation, or garbage) refresh the JWKS at most once a second.
_MIN_REFRESH_INTERVAL = 1.0


class TokenError(Exception):
    """A token that cannot be trusted; `reason` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksSource(Protocol):
    async def fetch(self) -> dict[str, Any]: ...


class StaticJwksSource:
    """JWKS from an in-process provider (identity verifies its own tokens this way)."""

    def __init__(self, provider: Callable[[], dict[str, Any] | Awaitable[dict[str, Any]]]) -> None:
        self._provider = provider

    async def fetch(self) -> dict[str, Any]:
        result = self._provider()
        if isinstance(result, dict):
            return result
        return await result


class HttpJwksSource:
    """JWKS fetched over HTTP from identity's /v1/auth/jwks."""

    def __init__(self, url: str, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self._client = client
        self._owned = client is None

    async def fetch(self) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(3.0))
        response = await self._client.get(self.url)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("JWKS is not a JSON object")
        return body

    async def aclose(self) -> None:
        if self._client is not None and self._owned:
            await self._client.aclose()


class TokenVerifier:
    def __init__(
        self,
        source: JwksSource,
        *,
        issuer: str,
        audience: str = ACCESS_TOKEN_AUDIENCE,
        cache_size: int = 50_000,
        use_cache: bool = True,
        clock: Callable[[], float] = time.time,
        revoked_sessions_size: int = 100_000,
    ) -> None:
        self._source = source
        self._issuer = issuer
        self._audience = audience
        self._keys: dict[str, PyJWK] = {}
        self._last_refresh = float("-inf")
        self._refresh_lock = asyncio.Lock()
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size
        self._use_cache = use_cache
        self._clock = clock
        # Session id -> until when its tokens are refused, oldest revocation first.
        self._revoked_sessions: OrderedDict[str, float] = OrderedDict()
        self._revoked_sessions_size = revoked_sessions_size
        self._warned_full = False

    async def verify(self, token: str) -> Principal:
        now = self._clock()
        if self._use_cache:
            cached = self._cache.get(token)
            if cached is not None:
                if cached.expires_at <= now:
                    del self._cache[token]
                    raise TokenError("expired")
                self._check_not_revoked(cached, now)
                return cached
        principal = await self._verify_uncached(token, now)
        self._check_not_revoked(principal, now)
        if self._use_cache:
            self._cache[token] = principal
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return principal

    def revoke_session(self, session_id: str, until: float) -> None:
        """Refuse the session's tokens, cached or not, until `until` (at least as long
        as any of them can still be valid)."""
        now = self._clock()
        revoked = self._revoked_sessions
        if until > now:
            revoked[session_id] = max(until, revoked.get(session_id, until))
            revoked.move_to_end(session_id)
        self._prune(now)

    def is_revoked(self, principal: Principal) -> bool:
        """Whether the principal's sign-in has ended since its token was verified (for
        long-lived responses, which verify the token only once)."""
        return self._session_revoked(principal.session_id, self._clock())

    def _session_revoked(self, session_id: str | None, now: float) -> bool:
        if not session_id:
            return False
        until = self._revoked_sessions.get(session_id)
        return until is not None and until > now

    def _prune(self, now: float) -> None:
        # Revocations mostly share one lifetime, so the oldest expire first; one that
        # outlives an older one is dropped a little later, and the size cap bounds both.
        revoked = self._revoked_sessions
        while revoked:
            session_id, until = next(iter(revoked.items()))
            if until > now and len(revoked) <= self._revoked_sessions_size:
                return
            if until > now and not self._warned_full:
                self._warned_full = True
                log.warning(
                    "more than %d sessions revoked at once; forgetting the oldest early",
                    self._revoked_sessions_size,
                )
            del revoked[session_id]

    def _check_not_revoked(self, principal: Principal, now: float) -> None:
        if self._session_revoked(principal.session_id, now):
            raise TokenError("revoked")

    async def _key_for(self, kid: str) -> PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._refresh_lock:
            key = self._keys.get(kid)
            if key is None:
                # Callers with unknown key ids wait for the next allowed refresh rather than
                # fail: a freshly rotated key is served, a forged kid costs only its sender.
                wait = _MIN_REFRESH_INTERVAL - (self._clock() - self._last_refresh)
                if wait > 0:
                    await asyncio.sleep(min(wait, _MIN_REFRESH_INTERVAL))
                await self.refresh_keys()
                key = self._keys.get(kid)
        if key is None:
            raise TokenError("unknown signing key")
        return key

    async def refresh_keys(self) -> None:
        try:
            jwks = await self._source.fetch()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError("signing keys unavailable") from exc
        finally:
            self._last_refresh = self._clock()
        keys: dict[str, PyJWK] = {}
        for entry in jwks.get("keys", []):
            if isinstance(entry, dict) and entry.get("kid"):
                try:
                    keys[str(entry["kid"])] = PyJWK.from_dict(entry)
                except (jwt.PyJWKError, jwt.InvalidKeyError):
                    continue
        self._keys = keys

    async def _verify_uncached(self, token: str, now: float) -> Principal:
        if len(token) > 8192:
            raise TokenError("malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenError("malformed") from exc
        kid = header.get("kid")
        if header.get("alg") not in _ALGORITHMS or not isinstance(kid, str):
            raise TokenError("unsupported algorithm or missing key id")
        key = await self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=_ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("invalid signature") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("wrong issuer") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("malformed") from exc
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    tenant_id = claims.get("tid")
    tenant_slug = claims.get("tslug")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(r, str) and r in ROLES for r in roles)
        or not isinstance(tenant_id, str)
        or not isinstance(tenant_slug, str)
    ):
        raise TokenError("malformed claims")
    sid = claims.get("sid")
    jti = claims.get("jti")
    iat = claims.get("iat")
    return Principal(
        user_id=str(claims["sub"]),
        tenant_id=tenant_id,
        tenant_slug=tenant_slug,
        roles=frozenset(roles),
        session_id=sid if isinstance(sid, str) else None,
        expires_at=float(claims["exp"]),
        token_id=jti if isinstance(jti, str) else None,
        issued_at=float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else 0.0,
    )
