"""Refresh-token families: rotate on every use, stored hashed, reuse revokes the family.

A family is one sign-in on one device (its id is the access token's `sid`). Each refresh
token is `hrt.<tenant id>.<family id>.<secret>`; only a hash of the secret is stored. A
refresh replaces the current secret and remembers the old hash, so a rotated token that
comes back (stolen and raced, or replayed) is recognised and the whole family revoked.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from hearth_identity.domain.errors import AuthenticationFailed, RefreshTokenReused

PREFIX = "hrt"
_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INVALID = "refresh token is invalid, expired or revoked"


@dataclass(frozen=True)
class SessionPolicy:
    # A refresh token unused this long expires.
    idle_seconds: float = 14 * 24 * 3600.0
    # A family ends this long after sign-in, however often it is refreshed.
    lifetime_seconds: float = 30 * 24 * 3600.0
    # Rotated hashes remembered for reuse detection.
    history: int = 200


def hash_secret(secret: str) -> str:
    """SHA-256 is enough here: secrets are 256 random bits, not guessable passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class RefreshToken:
    tenant_id: str
    family_id: str
    secret: str

    def encode(self) -> str:
        return f"{PREFIX}.{self.tenant_id}.{self.family_id}.{self.secret}"

    @classmethod
    def parse(cls, raw: str) -> RefreshToken:
        parts = raw.split(".")
        if len(parts) != 4 or parts[0] != PREFIX or not all(_PART.match(p) for p in parts[1:]):
            raise AuthenticationFailed(_INVALID)
        return cls(tenant_id=parts[1], family_id=parts[2], secret=parts[3])


class Presented(enum.Enum):
    CURRENT = "current"
    ROTATED = "rotated"
    UNKNOWN = "unknown"


@dataclass
class RefreshFamily:
    id: str
    tenant_id: str
    user_id: str
    created_at: float
    expires_at: float
    current_hash: str
    current_expires_at: float
    generation: int = 1
    rotated_hashes: list[str] = field(default_factory=list)
    revoked_at: float | None = None
    revoked_reason: str | None = None
    last_used_at: float | None = None

    @classmethod
    def start(
        cls, *, family_id: str, tenant_id: str, user_id: str, now: float, policy: SessionPolicy
    ) -> tuple[RefreshFamily, RefreshToken]:
        secret = new_secret()
        expires_at = now + policy.lifetime_seconds
        family = cls(
            id=family_id,
            tenant_id=tenant_id,
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
            current_hash=hash_secret(secret),
            current_expires_at=min(expires_at, now + policy.idle_seconds),
        )
        return family, RefreshToken(tenant_id, family_id, secret)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def classify(self, secret: str) -> Presented:
        digest = hash_secret(secret)
        if hmac.compare_digest(digest, self.current_hash):
            return Presented.CURRENT
        if any(hmac.compare_digest(digest, old) for old in self.rotated_hashes):
            return Presented.ROTATED
        return Presented.UNKNOWN

    def is_live(self, now: float) -> bool:
        return not self.revoked and now < self.current_expires_at and now < self.expires_at

    def rotate(self, token: RefreshToken, *, now: float, policy: SessionPolicy) -> RefreshToken:
        """Swap the current token for a new one. Raises AuthenticationFailed otherwise.

        A rotated (already used) token revokes the family first: the caller must save the
        family before passing the error on. `check_presented` says which case applies.
        """
        self.check_presented(token, now=now)
        secret = new_secret()
        self.rotated_hashes = [*self.rotated_hashes, self.current_hash][-policy.history :]
        self.current_hash = hash_secret(secret)
        self.current_expires_at = min(self.expires_at, now + policy.idle_seconds)
        self.generation += 1
        self.last_used_at = now
        return RefreshToken(self.tenant_id, self.id, secret)

    def check_presented(self, token: RefreshToken, *, now: float) -> None:
        """Accept only the live current token; a reused one revokes the family."""
        if token.family_id != self.id or token.tenant_id != self.tenant_id:
            raise AuthenticationFailed(_INVALID)
        presented = self.classify(token.secret)
        if presented is Presented.ROTATED:
            if not self.revoked:
                self.revoke(now, "reuse_detected")
            raise RefreshTokenReused(
                "refresh token was already used; every session of this sign-in is revoked"
            )
        if presented is Presented.UNKNOWN or not self.is_live(now):
            raise AuthenticationFailed(_INVALID)

    def revoke(self, now: float, reason: str) -> bool:
        """Revoke the family; False if it already was."""
        if self.revoked:
            return False
        self.revoked_at = now
        self.revoked_reason = reason
        return True

    def purge_at(self) -> float:
        """When the stored family is no longer needed, even for reuse detection."""
        return self.expires_at + 24 * 3600.0
