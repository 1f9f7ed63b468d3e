"""A resident's circle of support: who supports them, in which relationship, by consent.

The circle is one aggregate per resident: its members, its invitations (one-time codes,
stored hashed) and its audit trail, all saved in one atomic write with the events.
Consent is recorded on every member: the resident's own, or that of the professional
responsible for them (who must confirm the resident agreed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

from hearth_contracts.envelope import EventData
from hearth_contracts.identity import CircleMemberAdded, CircleMemberRemoved
from hearth_identity.domain.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFoundError,
)
from hearth_identity.domain.users import User
from hearth_identity.domain.values import STAFF_ROLES, Relationship, Role

INVITABLE: frozenset[Relationship] = frozenset({"family", "carer", "friend", "neighbour"})
JOINING_ROLES: frozenset[Role] = frozenset({"family", "carer"})
ConsentBasis = Literal["resident", "professional"]
InvitationStatus = Literal["pending", "used", "revoked"]
_CODE = re.compile(r"^([A-Za-z0-9-]{1,64})\.([A-Za-z0-9_-]{16,64})$")
_BAD_CODE = "invitation code is invalid"
_CLOSED_CODE = "invitation code has been used, revoked or has expired"


@dataclass(frozen=True)
class CirclePolicy:
    invitation_seconds: float = 7 * 24 * 3600.0
    max_pending: int = 20
    # Closed invitations are dropped from the document this long after closing.
    keep_closed_seconds: float = 30 * 24 * 3600.0


def role_for(relationship: Relationship) -> Role:
    """The role of an account created by accepting an invitation."""
    return "carer" if relationship == "carer" else "family"


def code_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class InvitationCode:
    resident_id: str
    secret: str

    def encode(self) -> str:
        return f"{self.resident_id}.{self.secret}"

    @classmethod
    def parse(cls, raw: str) -> InvitationCode:
        match = _CODE.match(raw.strip())
        if match is None:
            raise NotFoundError(_BAD_CODE, field="code")
        return cls(resident_id=match.group(1), secret=match.group(2))


@dataclass
class Member:
    member_id: str
    relationship: Relationship
    consent_by: str
    consent_basis: ConsentBasis
    added_at: float
    invitation_id: str | None = None


@dataclass
class Invitation:
    id: str
    code_hash: str
    relationship: Relationship
    invited_by: str
    consent_by: str
    consent_basis: ConsentBasis
    created_at: float
    expires_at: float
    status: InvitationStatus = "pending"
    used_by: str | None = None
    closed_at: float | None = None

    def is_open(self, now: float) -> bool:
        return self.status == "pending" and now < self.expires_at


@dataclass
class AuditEntry:
    at: float
    action: str
    actor_id: str
    member_id: str | None = None
    invitation_id: str | None = None
    relationship: str | None = None


def may_manage(actor: User, resident: User) -> bool:
    """The resident, or the professional responsible for them."""
    if actor.tenant_id != resident.tenant_id:
        return False
    return actor.id == resident.id or (
        actor.role == "professional" and resident.responsible_id == actor.id
    )


@dataclass
class Circle:
    tenant_id: str
    resident_id: str
    members: list[Member] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.member_id == member_id), None)

    def may_view(self, actor: User, resident: User) -> bool:
        """The resident, their responsible professional, council staff and the members."""
        if actor.tenant_id != self.tenant_id or resident.id != self.resident_id:
            return False
        return (
            may_manage(actor, resident)
            or actor.role in STAFF_ROLES
            or self.member(actor.id) is not None
        )

    def _check_resident(self, resident: User) -> None:
        if resident.id != self.resident_id or resident.tenant_id != self.tenant_id:
            raise NotFoundError("resident not found")
        if resident.role != "resident":
            raise NotFoundError("resident not found")

    def invite(
        self,
        *,
        actor: User,
        resident: User,
        relationship: Relationship,
        consent_confirmed: bool,
        invitation_id: str,
        now: float,
        policy: CirclePolicy,
    ) -> tuple[Invitation, InvitationCode]:
        self._check_resident(resident)
        if not may_manage(actor, resident):
            raise Forbidden("only the resident or their responsible professional may invite")
        if not resident.active:
            raise Conflict("resident is not active")
        if relationship not in INVITABLE:
            raise InvalidInput(
                f"relationship must be one of: {', '.join(sorted(INVITABLE))}",
                field="relationship",
            )
        basis: ConsentBasis = "resident" if actor.id == resident.id else "professional"
        if basis == "professional" and not consent_confirmed:
            raise InvalidInput(
                "confirm that the resident consents (consent_confirmed: true)",
                field="consent_confirmed",
            )
        self.prune(now, policy)
        if sum(1 for i in self.invitations if i.is_open(now)) >= policy.max_pending:
            raise Conflict(f"at most {policy.max_pending} invitations may be pending")
        secret = secrets.token_urlsafe(24)
        invitation = Invitation(
            id=invitation_id,
            code_hash=code_hash(secret),
            relationship=relationship,
            invited_by=actor.id,
            consent_by=actor.id,
            consent_basis=basis,
            created_at=now,
            expires_at=now + policy.invitation_seconds,
        )
        self.invitations.append(invitation)
        self.audit.append(
            AuditEntry(now, "invitation_created", actor.id, None, invitation_id, relationship)
        )
        return invitation, InvitationCode(self.resident_id, secret)

    def open_invitation(self, code: InvitationCode, *, now: float) -> Invitation:
        """The pending, unexpired invitation this code opens."""
        if code.resident_id != self.resident_id:
            raise NotFoundError(_BAD_CODE, field="code")
        digest = code_hash(code.secret)
        for invitation in self.invitations:
            if hmac.compare_digest(invitation.code_hash, digest):
                if not invitation.is_open(now):
                    raise Gone(_CLOSED_CODE, field="code")
                return invitation
        raise NotFoundError(_BAD_CODE, field="code")

    def accept(self, code: InvitationCode, *, member: User, now: float) -> list[EventData]:
        invitation = self.open_invitation(code, now=now)
        if member.tenant_id != self.tenant_id or member.id == self.resident_id:
            raise Forbidden("this account cannot join this circle")
        if member.role not in JOINING_ROLES:
            raise Forbidden("only family and carer accounts join a circle by invitation")
        if self.member(member.id) is not None:
            raise Conflict("already a member of this circle")
        invitation.status = "used"
        invitation.used_by = member.id
        invitation.closed_at = now
        self.members.append(
            Member(
                member_id=member.id,
                relationship=invitation.relationship,
                consent_by=invitation.consent_by,
                consent_basis=invitation.consent_basis,
                added_at=now,
                invitation_id=invitation.id,
            )
        )
        self.audit.append(
            AuditEntry(
                now, "member_added", member.id, member.id, invitation.id, invitation.relationship
            )
        )
        return [
            CircleMemberAdded(
                resident_id=self.resident_id,
                member_id=member.id,
                relationship=invitation.relationship,
                consent_by=invitation.consent_by,
            )
        ]

    def remove(self, member_id: str, *, actor: User, resident: User, now: float) -> list[EventData]:
        """The resident or their professional removes a member; a member may leave."""
        self._check_resident(resident)
        if not may_manage(actor, resident) and actor.id != member_id:
            raise Forbidden(
                "only the resident, their responsible professional or the member may remove"
            )
        found = self.member(member_id)
        if found is None:
            raise NotFoundError("not a member of this circle")
        self.members.remove(found)
        self.audit.append(
            AuditEntry(now, "member_removed", actor.id, member_id, None, found.relationship)
        )
        return [
            CircleMemberRemoved(
                resident_id=self.resident_id, member_id=member_id, removed_by=actor.id
            )
        ]

    def revoke_invitation(
        self, invitation_id: str, *, actor: User, resident: User, now: float
    ) -> None:
        self._check_resident(resident)
        if not may_manage(actor, resident):
            raise Forbidden("only the resident or their responsible professional may revoke")
        invitation = next((i for i in self.invitations if i.id == invitation_id), None)
        if invitation is None:
            raise NotFoundError("invitation not found")
        if invitation.status != "pending":
            raise Gone("invitation is already closed")
        invitation.status = "revoked"
        invitation.closed_at = now
        self.audit.append(AuditEntry(now, "invitation_revoked", actor.id, None, invitation_id))

    def prune(self, now: float, policy: CirclePolicy) -> None:
        """Drop invitations closed (or expired) long ago; the audit trail keeps them."""

        def closed_at(i: Invitation) -> float | None:
            if i.status != "pending":
                return i.closed_at
            return i.expires_at if now >= i.expires_at else None

        self.invitations = [
            i
            for i in self.invitations
            if (c := closed_at(i)) is None or now - c < policy.keep_closed_seconds
        ]
