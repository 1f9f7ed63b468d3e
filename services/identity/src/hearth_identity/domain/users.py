"""Users and the rules on who may create, read, change and deactivate whom.

A stored user holds only what identity needs: email (to sign in), display name, role,
password hash, status and who is responsible for a resident. Nothing else personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hearth_contracts.identity import UserDeactivated, UserRegistered, UserRoleChanged
from hearth_identity.domain.errors import Conflict, Forbidden, InvalidInput
from hearth_identity.domain.values import (
    STAFF_ROLES,
    Role,
    clean_display_name,
    normalize_email,
)

UserStatus = Literal["active", "deactivated", "joining"]

# Who may create accounts of which roles (family and carers join by invitation instead).
CREATABLE: dict[str, frozenset[Role]] = {
    "platform_admin": frozenset({"platform_admin"}),
    "council_admin": frozenset({"resident", "professional", "oncall", "council_admin"}),
    "professional": frozenset({"resident"}),
}
# Roles a council admin may move people between. Residents stay residents; nobody
# becomes a resident or a platform admin by a role change.
CHANGEABLE: frozenset[Role] = frozenset(
    {"professional", "oncall", "council_admin", "family", "carer"}
)
# Who may read other users' profiles and list users of their tenant.
READERS: frozenset[Role] = STAFF_ROLES | {"platform_admin"}
ADMINS: frozenset[Role] = frozenset({"council_admin", "platform_admin"})


@dataclass
class User:
    id: str
    tenant_id: str
    email: str
    display_name: str
    role: Role
    password_hash: str | None
    status: UserStatus = "active"
    created_at: float = 0.0
    created_by: str | None = None
    # Residents only: the professional responsible for them (may act on their circle).
    responsible_id: str | None = None
    # Accounts being created by joining a circle: the resident whose circle they join.
    joining_circle: str | None = None
    updated_at: float = 0.0

    @property
    def active(self) -> bool:
        return self.status == "active"

    @classmethod
    def register(
        cls,
        *,
        user_id: str,
        tenant_id: str,
        email: str,
        display_name: str,
        role: Role,
        password_hash: str | None,
        now: float,
        created_by: str | None,
        responsible_id: str | None = None,
        status: UserStatus = "active",
        joining_circle: str | None = None,
    ) -> tuple[User, UserRegistered]:
        if responsible_id is not None and role != "resident":
            raise InvalidInput(
                "only residents have a responsible professional", field="responsible_id"
            )
        user = cls(
            id=user_id,
            tenant_id=tenant_id,
            email=normalize_email(email),
            display_name=clean_display_name(display_name),
            role=role,
            password_hash=password_hash,
            status=status,
            created_at=now,
            created_by=created_by,
            responsible_id=responsible_id,
            joining_circle=joining_circle,
            updated_at=now,
        )
        return user, UserRegistered(user_id=user_id, role=role, registered_by=created_by)

    def change_role(self, new_role: Role, *, actor: User, now: float) -> UserRoleChanged | None:
        """Change this user's role; None when it already is `new_role`."""
        if actor.role != "council_admin":
            raise Forbidden("only a council administrator may change roles")
        if actor.id == self.id:
            raise Forbidden("you cannot change your own role")
        if not self.active:
            raise Conflict("user is not active")
        if self.role == new_role:
            return None
        if self.role not in CHANGEABLE or new_role not in CHANGEABLE:
            raise InvalidInput(
                f"cannot change a {self.role} into a {new_role}; roles that can change: "
                f"{', '.join(sorted(CHANGEABLE))}",
                field="role",
            )
        old = self.role
        self.role = new_role
        self.updated_at = now
        return UserRoleChanged(
            user_id=self.id, old_role=old, new_role=new_role, changed_by=actor.id
        )

    def deactivate(self, *, actor: User, now: float) -> UserDeactivated | None:
        """Deactivate (sign-in and refresh refused); None if already deactivated."""
        if actor.role not in ADMINS:
            raise Forbidden("only an administrator may deactivate users")
        if actor.id == self.id:
            raise Forbidden("you cannot deactivate yourself")
        if self.status == "deactivated":
            return None
        self.status = "deactivated"
        self.updated_at = now
        return UserDeactivated(user_id=self.id, deactivated_by=actor.id)

    def finish_joining(self, now: float) -> None:
        self.status = "active"
        self.joining_circle = None
        self.updated_at = now


def check_can_create(actor: User, role: Role) -> None:
    allowed = CREATABLE.get(actor.role, frozenset())
    if role not in allowed:
        if not allowed:
            raise Forbidden(f"a {actor.role} cannot create accounts")
        raise Forbidden(
            f"a {actor.role} can create only: {', '.join(sorted(allowed))}", field="role"
        )


def can_read(actor: User, target: User) -> bool:
    return actor.id == target.id or actor.role in READERS


def check_can_list(actor: User) -> None:
    if actor.role not in READERS:
        raise Forbidden("only staff may list users")
