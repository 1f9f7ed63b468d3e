"""Cryptography adapters: argon2id password hashing, Ed25519 signing keys and their
encryption at rest (AES-256-GCM under a key derived from a configured secret)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

import argon2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 1


class Argon2Hasher:
    """argon2id (RFC 9106) via argon2-cffi; the parameters are embedded in each hash."""

    def __init__(self, params: Argon2Params | None = None) -> None:
        p = params or Argon2Params()
        self._hasher = argon2.PasswordHasher(
            time_cost=p.time_cost,
            memory_cost=p.memory_cost_kib,
            parallelism=p.parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except argon2.exceptions.InvalidHashError:
            return True


class KeyDecryptionError(Exception):
    """A stored private key does not open with the configured secret."""


class KeyCipher:
    """Encrypts signing keys at rest. The key id is bound in as associated data, so an
    encrypted key cannot be swapped onto another key's record."""

    _SALT = b"hearth-identity/signing-keys/v1"

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the key encryption secret must be at least 16 characters")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=self._SALT, info=b"aes-256-gcm")
        self._aead = AESGCM(hkdf.derive(secret.encode()))

    def encrypt(self, kid: str, plaintext: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, kid.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, kid: str, blob: str) -> bytes:
        try:
            raw = base64.urlsafe_b64decode(blob.encode())
            return self._aead.decrypt(raw[:12], raw[12:], kid.encode())
        except (InvalidTag, ValueError) as exc:
            raise KeyDecryptionError(
                f"signing key {kid} cannot be decrypted: is IDENTITY_KEY_ENCRYPTION_SECRET right?"
            ) from exc


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    }


def private_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def load_private(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def generate_private() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
