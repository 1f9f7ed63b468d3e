"""What can go wrong in identity, in the language of the domain (mapped to HTTP elsewhere)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of identity's domain errors; `message` is safe to show the caller."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Input that breaks a rule (weak password, invalid email, unknown timezone...)."""

    code = "invalid_input"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"


class NotFoundError(DomainError):
    """Nothing of that id in the caller's tenant (or the caller may not know it exists)."""

    code = "not_found"


class Conflict(DomainError):
    """The change collides with existing state (email taken, slug taken, already a member)."""

    code = "conflict"


class Gone(DomainError):
    """Something that existed but can no longer be used (used or expired invitation)."""

    code = "gone"


class AuthenticationFailed(DomainError):
    """Credentials or tokens that prove nothing. One message for every cause."""

    code = "invalid_credentials"


class RefreshTokenReused(AuthenticationFailed):
    """A rotated refresh token came back: its whole family has been revoked."""

    code = "refresh_token_reused"


class LockedOut(DomainError):
    """Too many failed sign-ins: try again after `retry_after` seconds."""

    code = "locked"

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed sign-in attempts; try again later")
        self.retry_after = max(1, int(retry_after + 0.999))
