"""Signing-key policy: the newest key signs; older keys stay published while tokens they
signed can still be valid, so rotating keys logs nobody out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SigningKeyInfo:
    kid: str
    created_at: float
    public_jwk: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyPolicy:
    access_token_seconds: float
    # Clock skew between identity and verifiers, and JWKS caching, on top of token life.
    leeway_seconds: float = 120.0

    def signing_key(self, keys: Sequence[SigningKeyInfo]) -> SigningKeyInfo | None:
        """The key that signs now: the newest (ties broken by kid, so replicas agree)."""
        if not keys:
            return None
        return max(keys, key=lambda k: (k.created_at, k.kid))

    def retired_at(self, key: SigningKeyInfo, keys: Sequence[SigningKeyInfo]) -> float | None:
        """When `key` stopped signing: when its successor was created (None: still signs)."""
        later = [k.created_at for k in keys if (k.created_at, k.kid) > (key.created_at, key.kid)]
        return min(later) if later else None

    def published(self, keys: Sequence[SigningKeyInfo], now: float) -> list[SigningKeyInfo]:
        """Keys verifiers need: the signing key and every key whose tokens may be live."""
        result = []
        for key in keys:
            retired = self.retired_at(key, keys)
            if retired is None or retired + self.access_token_seconds + self.leeway_seconds > now:
                result.append(key)
        return sorted(result, key=lambda k: (k.created_at, k.kid), reverse=True)

    def prunable(self, keys: Sequence[SigningKeyInfo], now: float) -> list[SigningKeyInfo]:
        """Keys no token can still need: safe to delete."""
        live = {k.kid for k in self.published(keys, now)}
        return [k for k in keys if k.kid not in live]
