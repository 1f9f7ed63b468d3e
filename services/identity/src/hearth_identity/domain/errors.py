"""What can go wrong in identity: the kit's domain errors plus sign-in failures."""

from __future__ import annotations

from hearth_kit.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFoundError

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "LockedOut",
    "NotFoundError",
    "RefreshTokenReused",
]


class AuthenticationFailed(DomainError):
    """Credentials or tokens that prove nothing. One message for every cause."""

    code = "invalid_credentials"
    http_status = 401

    def http_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class RefreshTokenReused(AuthenticationFailed):
    """A rotated refresh token came back: its whole family has been revoked."""

    code = "refresh_token_reused"


class LockedOut(DomainError):
    """Too many failed sign-ins: try again after `retry_after` seconds."""

    code = "locked"
    http_status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed sign-in attempts; try again later")
        self.retry_after = max(1, int(retry_after + 0.999))

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
