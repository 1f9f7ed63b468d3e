"""Who is calling: the facts an access token proves."""

from __future__ import annotations

from dataclasses import dataclass

from hearth_kit.people.model import ROLES, STAFF_ROLES

__all__ = ["ROLES", "STAFF_ROLES", "Principal"]


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: str
    tenant_slug: str
    roles: frozenset[str]
    session_id: str | None = None
    expires_at: float = 0.0
    token_id: str | None = None
    # When the token was issued (`iat`): a service that learns of a change to someone's
    # access refuses their tokens issued before it. 0 means unknown (refused then too).
    issued_at: float = 0.0

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_staff(self) -> bool:
        return self.has_any(*STAFF_ROLES)
