"""Identity's domain: pure rules on tenants, users, circles, sessions, keys and sign-in.

No web framework, broker or database code here; time comes in as `now` (epoch seconds).
"""

from hearth_identity.domain.circle import (
    Circle,
    CirclePolicy,
    Invitation,
    InvitationCode,
    Member,
    may_manage,
    role_for,
)
from hearth_identity.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    LockedOut,
    NotFoundError,
    RefreshTokenReused,
)
from hearth_identity.domain.keys import KeyPolicy, SigningKeyInfo
from hearth_identity.domain.lockout import LockoutPolicy, LoginThrottle
from hearth_identity.domain.passwords import PasswordHasher, PasswordPolicy
from hearth_identity.domain.sessions import RefreshFamily, RefreshToken, SessionPolicy
from hearth_identity.domain.tenants import Tenant
from hearth_identity.domain.users import User, can_read, check_can_create, check_can_list
from hearth_identity.domain.values import PLATFORM_SLUG, STAFF_ROLES, Relationship, Role

__all__ = [
    "PLATFORM_SLUG",
    "STAFF_ROLES",
    "AuthenticationFailed",
    "Circle",
    "CirclePolicy",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "Invitation",
    "InvitationCode",
    "KeyPolicy",
    "LockedOut",
    "LockoutPolicy",
    "LoginThrottle",
    "Member",
    "NotFoundError",
    "PasswordHasher",
    "PasswordPolicy",
    "RefreshFamily",
    "RefreshToken",
    "RefreshTokenReused",
    "Relationship",
    "Role",
    "SessionPolicy",
    "SigningKeyInfo",
    "Tenant",
    "User",
    "can_read",
    "check_can_create",
    "check_can_list",
    "may_manage",
    "role_for",
]
