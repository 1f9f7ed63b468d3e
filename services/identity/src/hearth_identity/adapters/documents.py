"""How identity's aggregates look as store documents, and back."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, TypeVar

from hearth_identity.domain import (
    Circle,
    Invitation,
    LoginThrottle,
    Member,
    RefreshFamily,
    Tenant,
    User,
)
from hearth_identity.domain.circle import AuditEntry
from hearth_kit.store.port import Document

T = TypeVar("T")

# Tenants and signing keys are platform records, not any council's: they live in this
# partition of the store (every document still names a tenant id).
REGISTRY = "_registry"


def _pick(cls: type[T], doc: Document) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in doc.items() if k in names})


def tenant_doc(tenant: Tenant) -> Document:
    return {**asdict(tenant), "tenant_id": REGISTRY}


def tenant_from(doc: Document) -> Tenant:
    return _pick(Tenant, doc)


def user_doc(user: User) -> Document:
    return asdict(user)


def user_from(doc: Document) -> User:
    return _pick(User, doc)


def family_doc(family: RefreshFamily) -> Document:
    return {**asdict(family), "active": not family.revoked, "purge_at": family.purge_at()}


def family_from(doc: Document) -> RefreshFamily:
    return _pick(RefreshFamily, doc)


def circle_doc(circle: Circle) -> Document:
    return {
        "id": circle.resident_id,
        "tenant_id": circle.tenant_id,
        "resident_id": circle.resident_id,
        "members": [asdict(m) for m in circle.members],
        "invitations": [asdict(i) for i in circle.invitations],
        "audit": [asdict(a) for a in circle.audit],
    }


def circle_from(doc: Document) -> Circle:
    return Circle(
        tenant_id=doc["tenant_id"],
        resident_id=doc["resident_id"],
        members=[_pick(Member, m) for m in doc.get("members", [])],
        invitations=[_pick(Invitation, i) for i in doc.get("invitations", [])],
        audit=[_pick(AuditEntry, a) for a in doc.get("audit", [])],
    )


def throttle_doc(tenant_id: str, key: str, throttle: LoginThrottle, forget_at: float) -> Document:
    return {"id": key, "tenant_id": tenant_id, **asdict(throttle), "forget_at": forget_at}


def throttle_from(doc: Document) -> LoginThrottle:
    return _pick(LoginThrottle, doc)


def strip_store_fields(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("version", "outbox")}
