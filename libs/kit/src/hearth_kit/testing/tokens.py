"""A local token signer that mimics identity: a service's tests mint access tokens
without running identity, with the same claims and algorithm identity uses."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from hearth_kit.auth import ACCESS_TOKEN_AUDIENCE, StaticJwksSource, TokenVerifier

TEST_ISSUER = "hearth-identity"


class TokenSigner:
    def __init__(self, kid: str | None = None, issuer: str = TEST_ISSUER) -> None:
        self.kid = kid or uuid.uuid4().hex[:12]
        self.issuer = issuer
        self._key = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        public = json.loads(OKPAlgorithm.to_jwk(self._key.public_key()))
        public.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": [public]}

    def verifier(self, **kwargs: Any) -> TokenVerifier:
        return TokenVerifier(StaticJwksSource(self.jwks), issuer=self.issuer, **kwargs)

    def token(
        self,
        *,
        user_id: str = "user-1",
        tenant_id: str = "tenant-a",
        tenant_slug: str = "council-a",
        roles: Iterable[str] = ("resident",),
        ttl: float = 600,
        session_id: str | None = None,
        audience: str = ACCESS_TOKEN_AUDIENCE,
        issued_at: float | None = None,
        **extra: Any,
    ) -> str:
        now = issued_at if issued_at is not None else time.time()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": user_id,
            "tid": tenant_id,
            "tslug": tenant_slug,
            "roles": list(roles),
            "sid": session_id or uuid.uuid4().hex,
            "jti": uuid.uuid4().hex,
            "iat": int(now),
            "exp": int(now + ttl),
            **extra,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, **claims: Any) -> dict[str, str]:
        """An Authorization header with a token of `claims` (see `token`)."""
        return {"Authorization": f"Bearer {self.token(**claims)}"}
