"""What identity's handlers depend on, gathered once at start-up, and helpers they share."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hearth_identity.adapters.keyring import KeyRing
from hearth_identity.adapters.repositories import Loaded, Repositories
from hearth_identity.domain import (
    AuthenticationFailed,
    CirclePolicy,
    LockoutPolicy,
    NotFoundError,
    PasswordHasher,
    PasswordPolicy,
    SessionPolicy,
    User,
)
from hearth_kit.auth import Principal
from hearth_kit.store.port import ConcurrencyConflict, DuplicateKey

T = TypeVar("T")
# How many times a handler retries a compare-and-swap it lost before giving up (409).
CAS_ATTEMPTS = 5


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class IdentityDeps:
    repos: Repositories
    keyring: KeyRing
    hasher: PasswordHasher
    issuer: str
    access_token_seconds: int
    passwords: PasswordPolicy = field(default_factory=PasswordPolicy)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    circles: CirclePolicy = field(default_factory=CirclePolicy)
    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = _new_id
    # Told when a session (refresh family) is revoked, with when its access tokens expire.
    on_session_revoked: Callable[[str, float], None] | None = None
    _dummy_hash: str | None = None

    async def hash_password(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Verify; without a hash, verify against a dummy one so timing reveals nothing."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash_password(secrets.token_urlsafe(16))
            await asyncio.to_thread(self.hasher.verify, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self.hasher.verify, password_hash, password)

    def session_revoked(self, session_id: str) -> None:
        if self.on_session_revoked is not None:
            self.on_session_revoked(session_id, self.clock() + self.access_token_seconds)


async def load_actor(principal: Principal, deps: IdentityDeps) -> Loaded[User]:
    """The caller's stored account, which must still be active (tokens outlive changes)."""
    found = await deps.repos.users.get(principal.tenant_id, principal.user_id)
    if found is None or not found.item.active:
        raise AuthenticationFailed("your account is not active")
    return found


async def load_resident(tenant_id: str, resident_id: str, deps: IdentityDeps) -> User:
    found = await deps.repos.users.get(tenant_id, resident_id)
    if found is None or found.item.role != "resident":
        raise NotFoundError("resident not found")
    return found.item


async def retry_cas(attempt: Callable[[], Awaitable[T]], *, attempts: int = CAS_ATTEMPTS) -> T:
    """Run load-change-save `attempt` again when it loses a compare-and-swap race."""
    for _ in range(attempts - 1):
        try:
            return await attempt()
        except (ConcurrencyConflict, DuplicateKey):
            await asyncio.sleep(0)
    return await attempt()
