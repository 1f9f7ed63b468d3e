"""What every identity route shares: the handler dependencies, domain errors as HTTP
answers and JSON views of aggregates."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hearth_identity.domain import (
    Tenant,
    User,
)
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.http import iso


def deps(request: Request) -> IdentityDeps:
    found: IdentityDeps = request.app.state.identity
    return found


def user_json(user: User, *, viewer: User | None = None) -> dict[str, Any]:
    """A user as others see them; the email only for themselves and administrators."""
    body: dict[str, Any] = {
        "id": user.id,
        "tenant_id": user.tenant_id,
        "display_name": user.display_name,
        "role": user.role,
        "roles": [user.role],
        "status": user.status,
        "created_at": iso(user.created_at),
    }
    if viewer is None or viewer.id == user.id or viewer.role in ("council_admin", "platform_admin"):
        body["email"] = user.email
    if user.role == "resident":
        body["responsible_professional_id"] = user.responsible_id
    return body


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "created_at": iso(tenant.created_at),
    }
