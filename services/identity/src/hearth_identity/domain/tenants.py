"""Tenants: councils (and the one platform tenant that platform administrators live in)."""

from __future__ import annotations

from dataclasses import dataclass

from hearth_contracts.identity import TenantCreated
from hearth_identity.domain.values import (
    PLATFORM_SLUG,
    clean_tenant_name,
    validate_slug,
    validate_timezone,
)


@dataclass
class Tenant:
    id: str
    slug: str
    name: str
    timezone: str
    created_at: float
    created_by: str | None = None

    @property
    def is_platform(self) -> bool:
        return self.slug == PLATFORM_SLUG

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        slug: str,
        name: str,
        timezone: str,
        now: float,
        created_by: str | None,
    ) -> tuple[Tenant, TenantCreated]:
        tenant = cls(
            id=tenant_id,
            slug=validate_slug(slug),
            name=clean_tenant_name(name),
            timezone=validate_timezone(timezone),
            created_at=now,
            created_by=created_by,
        )
        return tenant, TenantCreated(
            tenant_id=tenant.id, slug=tenant.slug, timezone=tenant.timezone
        )
