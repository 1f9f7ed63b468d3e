"""The signing key ring: loads keys from the store, signs access tokens with the newest,
publishes the JWKS verifiers need, and rotates.

Replicas re-read the keys every `reload_seconds`, so a rotation on one replica reaches
the others within that time; verifiers refresh their JWKS when they meet an unknown kid.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hearth_identity.adapters.crypto import (
    KeyCipher,
    generate_private,
    load_private,
    private_bytes,
    public_jwk,
)
from hearth_identity.adapters.repositories import KeyRepository, StoredKey
from hearth_identity.domain import KeyPolicy, SigningKeyInfo


class KeyRing:
    def __init__(
        self,
        repo: KeyRepository,
        cipher: KeyCipher,
        policy: KeyPolicy,
        *,
        clock: Callable[[], float] = time.time,
        reload_seconds: float = 30.0,
    ) -> None:
        self._repo = repo
        self._cipher = cipher
        self._policy = policy
        self._clock = clock
        self._reload_seconds = reload_seconds
        self._stored: dict[str, StoredKey] = {}
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    def _infos(self) -> list[SigningKeyInfo]:
        return [SigningKeyInfo(k.kid, k.created_at, k.public_jwk) for k in self._stored.values()]

    async def load(self) -> None:
        """Read every key; create the first one if there is none. Checks the signing key
        decrypts with the configured secret (raises KeyDecryptionError if not)."""
        async with self._lock:
            await self._load()
            if not self._stored:
                await self._create()
                await self._load()
            self._signing_private()

    async def _load(self) -> None:
        self._stored = {k.kid: k for k in await self._repo.all()}
        self._private = {kid: key for kid, key in self._private.items() if kid in self._stored}
        self._loaded_at = self._clock()

    async def refresh_if_stale(self) -> None:
        if self._clock() - self._loaded_at >= self._reload_seconds:
            async with self._lock:
                if self._clock() - self._loaded_at >= self._reload_seconds:
                    await self._load()

    async def _create(self) -> StoredKey:
        private = generate_private()
        now = self._clock()
        # Strictly newer than every key known here, so the new key is the one that signs
        # even when the clock has not moved (or is behind another replica's).
        created_at = max([now, *(k.created_at + 0.001 for k in self._stored.values())])
        kid = f"{time.strftime('%Y%m%d', time.gmtime(now))}-{uuid.uuid4().hex[:12]}"
        key = StoredKey(
            kid=kid,
            created_at=created_at,
            public_jwk=public_jwk(private, kid),
            private_encrypted=self._cipher.encrypt(kid, private_bytes(private)),
        )
        await self._repo.insert(key)
        self._private[kid] = private
        return key

    async def rotate(self) -> SigningKeyInfo:
        """A new key signs from now on; keys no live token needs are deleted."""
        async with self._lock:
            await self._load()
            created = await self._create()
            await self._load()
            for old in self._policy.prunable(self._infos(), self._clock()):
                await self._repo.delete(old.kid)
            await self._load()
            return SigningKeyInfo(created.kid, created.created_at, created.public_jwk)

    def _signing_private(self) -> tuple[str, Ed25519PrivateKey]:
        info = self._policy.signing_key(self._infos())
        if info is None:
            raise RuntimeError("no signing key loaded")
        private = self._private.get(info.kid)
        if private is None:
            stored = self._stored[info.kid]
            private = load_private(self._cipher.decrypt(info.kid, stored.private_encrypted))
            self._private[info.kid] = private
        return info.kid, private

    @property
    def signing_kid(self) -> str:
        return self._signing_private()[0]

    def sign(self, claims: dict[str, Any]) -> str:
        kid, private = self._signing_private()
        return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})

    def jwks(self) -> dict[str, Any]:
        published = self._policy.published(self._infos(), self._clock())
        return {"keys": [dict(k.public_jwk) for k in published]}

    async def current_jwks(self) -> dict[str, Any]:
        await self.refresh_if_stale()
        return self.jwks()

    async def reloaded_jwks(self) -> dict[str, Any]:
        """JWKS straight from the store: for a verifier meeting a kid it does not know
        (signed by another replica's new key). Verifiers rate-limit these calls."""
        async with self._lock:
            await self._load()
        return self.jwks()
