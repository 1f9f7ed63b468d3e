"""The pure model of people: roles, the caller as an actor, a person as identity knows
them, a member of a resident's circle of support. No I/O, no frameworks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self

ROLES = frozenset(
    {"resident", "family", "carer", "professional", "oncall", "council_admin", "platform_admin"}
)
# Council staff: people who work for the council rather than people it cares for.
STAFF_ROLES = frozenset({"professional", "oncall", "council_admin"})
ADMIN_ROLE = "council_admin"


def is_staff_role(role: str | None) -> bool:
    return role in STAFF_ROLES


class _Caller(Protocol):
    """What an actor is made from (an authenticated principal)."""

    @property
    def user_id(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user of one council (tenant) with their roles."""

    user_id: str
    tenant_id: str
    roles: frozenset[str]

    @classmethod
    def of(cls, caller: _Caller) -> Self:
        return cls(user_id=caller.user_id, tenant_id=caller.tenant_id, roles=caller.roles)

    @property
    def is_staff(self) -> bool:
        return not self.roles.isdisjoint(STAFF_ROLES)

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    @property
    def is_resident(self) -> bool:
        return "resident" in self.roles


@dataclass(frozen=True)
class Person:
    """Someone of a council as identity told us: their role, and whether still active."""

    user_id: str
    role: str | None
    active: bool

    @property
    def is_staff(self) -> bool:
        return is_staff_role(self.role)


@dataclass(frozen=True)
class CircleMember:
    """A member of a resident's circle of support, as identity lists them."""

    member_id: str
    role: str | None
    relationship: str | None
