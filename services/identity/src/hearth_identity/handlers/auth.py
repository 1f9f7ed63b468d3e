"""Sign-in, refresh, logout and key rotation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hearth_contracts.identity import SessionRevoked
from hearth_identity.adapters.documents import REGISTRY
from hearth_identity.adapters.repositories import Loaded, throttle_key
from hearth_identity.commands import Logout, Refresh, SignIn
from hearth_identity.domain import (
    AuthenticationFailed,
    Forbidden,
    LockedOut,
    LoginThrottle,
    RefreshFamily,
    RefreshToken,
    RefreshTokenReused,
    SigningKeyInfo,
    Tenant,
    User,
)
from hearth_identity.domain.sessions import Presented
from hearth_identity.handlers.context import IdentityDeps, load_actor, retry_cas
from hearth_kit.auth import ACCESS_TOKEN_AUDIENCE, Principal
from hearth_kit.store.port import ConcurrencyConflict

WRONG_CREDENTIALS = "wrong council, email or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def access_claims(
    user: User, tenant: Tenant, session_id: str, now: float, ttl: int, issuer: str
) -> dict[str, Any]:
    return {
        "iss": issuer,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": user.id,
        "tid": tenant.id,
        "tslug": tenant.slug,
        "roles": [user.role],
        "sid": session_id,
        "jti": uuid.uuid4().hex,
        "iat": int(now),
        "exp": int(now) + ttl,
    }


def _pair(
    user: User, tenant: Tenant, refresh: RefreshToken, now: float, deps: IdentityDeps
) -> TokenPair:
    ttl = deps.access_token_seconds
    token = deps.keyring.sign(access_claims(user, tenant, refresh.family_id, now, ttl, deps.issuer))
    return TokenPair(access_token=token, refresh_token=refresh.encode(), expires_in=ttl)


async def sign_in(cmd: SignIn, *, deps: IdentityDeps) -> TokenPair:
    """Tenant slug, email and password to a token pair. Every wrong part fails alike."""
    now = deps.clock()
    slug, email = cmd.tenant.strip().lower(), cmd.email.strip().lower()
    await deps.keyring.refresh_if_stale()
    tenant = await deps.repos.tenants.by_slug(slug)
    scope, key = (tenant.id if tenant else REGISTRY), throttle_key(slug, email)
    throttle = await deps.repos.throttles.get(scope, key)
    if throttle is not None and (wait := throttle.item.retry_after(now)) is not None:
        raise LockedOut(wait)
    found = await deps.repos.users.by_email(tenant.id, email) if tenant else None
    user = found.item if found and found.item.status != "deactivated" else None
    ok = await deps.verify_password(user.password_hash if user else None, cmd.password)
    if ok and found is not None and found.item.status == "joining":
        ok = await _finish_joining(found, deps)
    if not ok or tenant is None or found is None:
        await _record_failure(scope, key, deps)
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    if throttle is not None:
        await deps.repos.throttles.clear(scope, key)
    if found.item.password_hash and deps.hasher.needs_rehash(found.item.password_hash):
        await _rehash(found, cmd.password, deps)
    family, refresh = RefreshFamily.start(
        family_id=deps.new_id(),
        tenant_id=tenant.id,
        user_id=found.item.id,
        now=now,
        policy=deps.sessions,
    )
    await deps.repos.sessions.insert(family)
    return _pair(found.item, tenant, refresh, now, deps)


async def _finish_joining(found: Loaded[User], deps: IdentityDeps) -> bool:
    """An account whose circle join was interrupted: active once the circle lists it."""
    user = found.item
    circle = await deps.repos.circles.get(user.tenant_id, user.joining_circle or "")
    if circle is None or circle.item.member(user.id) is None:
        return False
    user.finish_joining(deps.clock())
    try:
        await deps.repos.users.save(found)
    except ConcurrencyConflict:
        pass  # someone else finished it
    return True


async def _rehash(found: Loaded[User], password: str, deps: IdentityDeps) -> None:
    found.item.password_hash = await deps.hash_password(password)
    try:
        await deps.repos.users.save(found)
    except ConcurrencyConflict:
        pass  # the next sign-in upgrades it


async def _record_failure(scope: str, key: str, deps: IdentityDeps) -> None:
    async def attempt() -> None:
        now = deps.clock()
        loaded = await deps.repos.throttles.get(scope, key) or Loaded(LoginThrottle(), 0)
        loaded.item.record_failure(now, deps.lockout)
        await deps.repos.throttles.put(scope, key, loaded, loaded.item.forget_at(deps.lockout))

    await retry_cas(attempt)


async def _load_family(token: RefreshToken, deps: IdentityDeps) -> Loaded[RefreshFamily]:
    loaded = await deps.repos.sessions.get(token.tenant_id, token.family_id)
    if loaded is None:
        raise AuthenticationFailed("refresh token is invalid, expired or revoked")
    return loaded


async def _revoke(
    loaded: Loaded[RefreshFamily], reason: str, deps: IdentityDeps, *, unsaved: bool = False
) -> None:
    """Revoke and save a family, reloading if someone saved it meanwhile. `unsaved`: the
    loaded family was already revoked in memory (by reuse detection) but not stored."""
    family_id, tenant_id = loaded.item.id, loaded.item.tenant_id
    current: Loaded[RefreshFamily] | None = loaded
    for _ in range(5):
        if current is None:
            break
        changed = current.item.revoke(deps.clock(), reason) or unsaved
        if not changed:
            break
        family = current.item
        # Stored with the revocation, in one write: chat closes the session's sockets.
        revoked = SessionRevoked(user_id=family.user_id, session_id=family.id, reason=reason)
        try:
            await deps.repos.sessions.save(current, events=[(revoked, family.user_id)])
            break
        except ConcurrencyConflict:
            current, unsaved = await deps.repos.sessions.get(tenant_id, family_id), False
    deps.session_revoked(family_id)


async def refresh(cmd: Refresh, *, deps: IdentityDeps) -> TokenPair:
    """Rotate: the presented token dies, a new pair is issued. A rotated token coming back
    revokes the whole family."""
    token = RefreshToken.parse(cmd.refresh_token)
    for _ in range(2):
        loaded = await _load_family(token, deps)
        family, now = loaded.item, deps.clock()
        try:
            new_token = family.rotate(token, now=now, policy=deps.sessions)
        except RefreshTokenReused:
            await _revoke(loaded, "reuse_detected", deps, unsaved=True)
            raise
        user = await deps.repos.users.get(family.tenant_id, family.user_id)
        tenant = await deps.repos.tenants.get(family.tenant_id)
        if user is None or not user.item.active or tenant is None:
            await _revoke(loaded, "account_inactive", deps)
            raise AuthenticationFailed("refresh token is invalid, expired or revoked")
        try:
            await deps.repos.sessions.save(loaded)
        except ConcurrencyConflict:
            # Another refresh won the race with this very token: next round sees reuse.
            continue
        await deps.keyring.refresh_if_stale()
        return _pair(user.item, tenant, new_token, now, deps)
    raise AuthenticationFailed("refresh token is invalid, expired or revoked")


async def logout(cmd: Logout, *, deps: IdentityDeps) -> None:
    """End this sign-in (or, with `everywhere`, every sign-in of the account). Repeating a
    logout with the same token succeeds; a rotated token counts as reuse."""
    token = RefreshToken.parse(cmd.refresh_token)
    loaded = await _load_family(token, deps)
    family = loaded.item
    presented = family.classify(token.secret)
    if presented is Presented.ROTATED:
        await _revoke(loaded, "reuse_detected", deps)
        raise RefreshTokenReused(
            "refresh token was already used; every session of this sign-in is revoked"
        )
    if presented is Presented.UNKNOWN:
        raise AuthenticationFailed("refresh token is invalid, expired or revoked")
    await _revoke(loaded, "logout", deps)
    if cmd.everywhere:
        await revoke_all_sessions(family.tenant_id, family.user_id, "logout_everywhere", deps)


async def revoke_all_sessions(tenant_id: str, user_id: str, reason: str, deps: IdentityDeps) -> int:
    families = await deps.repos.sessions.active_for(tenant_id, user_id)
    for loaded in families:
        await _revoke(loaded, reason, deps)
    return len(families)


async def rotate_keys(*, principal: Principal, deps: IdentityDeps) -> SigningKeyInfo:
    actor = await load_actor(principal, deps)
    if actor.item.role != "platform_admin":
        raise Forbidden("only a platform administrator may rotate signing keys")
    return await deps.keyring.rotate()
