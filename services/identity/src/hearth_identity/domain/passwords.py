"""Password policy (length over composition, as NIST SP 800-63B advises) and the hasher port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hearth_identity.domain.errors import InvalidInput

# The most common passwords and patterns seen in breaches that pass a length rule.
_COMMON = frozenset(
    {
        "password1234",
        "passwordpassword",
        "123456789012",
        "1234567890ab",
        "qwertyuiopas",
        "qwertyuiop12",
        "qwerty123456",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "administrator",
        "changeme1234",
        "abc123456789",
        "password123!",
        "password2024",
        "password2025",
        "password2026",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "trustno1trustno1",
        "football1234",
        "baseball1234",
        "superman1234",
        "monkey123456",
        "sunshine1234",
        "princess1234",
        "dragon123456",
        "master123456",
        "starwars1234",
        "whatever1234",
        "hellohello12",
        "council12345",
        "hearthhearth",
        "passw0rd1234",
        "p@ssw0rd1234",
        "p@ssword1234",
        "qwertyqwerty",
        "asdfghjkl123",
        "0987654321qw",
    }
)
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 10
    max_length: int = 128
    min_distinct: int = 5

    def check(self, password: str, *, email: str | None = None, name: str | None = None) -> None:
        """Raise InvalidInput (field "password") with the first reason it is too weak."""
        if len(password) < self.min_length:
            raise self._weak(f"must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            raise self._weak(f"must be at most {self.max_length} characters")
        if password != password.strip():
            raise self._weak("must not start or end with spaces")
        lowered = password.lower()
        if len(set(lowered)) < self.min_distinct:
            raise self._weak(f"must use at least {self.min_distinct} different characters")
        if lowered in _COMMON or any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES):
            raise self._weak("is too common")
        # Personal words (name, email) do not count towards the length.
        personal = []
        if email:
            personal.append(email.lower().partition("@")[0])
        if name:
            personal.extend(part.lower() for part in name.split())
        rest = lowered
        for part in sorted(personal, key=len, reverse=True):
            if len(part) >= 3:
                rest = rest.replace(part, "")
        if len(rest) < self.min_length:
            raise self._weak(
                f"must have at least {self.min_length} characters besides your name or email"
            )

    @staticmethod
    def _weak(reason: str) -> InvalidInput:
        return InvalidInput(f"password {reason}", field="password")


class PasswordHasher(Protocol):
    """Port for a slow, salted password hash (argon2id in production)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...
