"""Events published by the identity service (version 1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hearth_contracts.envelope import EventData

Role = Literal[
    "resident", "family", "carer", "professional", "oncall", "council_admin", "platform_admin"
]
ROLES: tuple[Role, ...] = (
    "resident",
    "family",
    "carer",
    "professional",
    "oncall",
    "council_admin",
    "platform_admin",
)
Relationship = Literal["family", "carer", "professional", "friend", "neighbour"]


class TenantCreated(EventData):
    TYPE = "identity.tenant.created"
    tenant_id: str
    slug: str
    timezone: str


class UserRegistered(EventData):
    TYPE = "identity.user.registered"
    user_id: str
    role: Role
    registered_by: str | None = None


class UserRoleChanged(EventData):
    TYPE = "identity.user.role_changed"
    user_id: str
    old_role: Role
    new_role: Role
    changed_by: str


class UserDeactivated(EventData):
    TYPE = "identity.user.deactivated"
    user_id: str
    deactivated_by: str


class SessionRevoked(EventData):
    """A sign-in ended before its time (logout, logout everywhere, a reused refresh
    token, deactivation): live connections of that session close, and its access
    tokens, still valid for a few minutes, are refused where they can be."""

    TYPE = "identity.session.revoked"
    user_id: str
    session_id: str
    reason: str = Field(max_length=40)


class UserErasureRequested(EventData):
    TYPE = "identity.user.erasure_requested"
    user_id: str
    requested_by: str


class CircleMemberAdded(EventData):
    TYPE = "identity.circle.member_added"
    resident_id: str
    member_id: str
    relationship: Relationship
    consent_by: str = Field(
        description="who gave consent: the resident or the responsible professional"
    )


class CircleMemberRemoved(EventData):
    TYPE = "identity.circle.member_removed"
    resident_id: str
    member_id: str
    removed_by: str
