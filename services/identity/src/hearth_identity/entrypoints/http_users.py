"""Routes: the caller, users, councils."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from hearth_identity.commands import ChangeRole, CreateTenant, CreateUser
from hearth_identity.domain import Role
from hearth_identity.entrypoints.common import deps, tenant_json, user_json
from hearth_identity.handlers import tenants, users
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.auth import Principal
from hearth_kit.http import current_principal, id_path, require_roles

router = APIRouter(prefix="/v1", tags=["users"])
CREATORS = ("platform_admin", "council_admin", "professional")
READERS = ("platform_admin", "council_admin", "professional", "oncall")
ADMINS = ("platform_admin", "council_admin")


@router.get("/me")
async def me(
    principal: Principal = Depends(current_principal), d: IdentityDeps = Depends(deps)
) -> dict[str, Any]:
    user, tenant = await users.me(principal=principal, deps=d)
    return {**user_json(user), "tenant": tenant_json(tenant)}


@router.post("/users", status_code=201)
async def create_user(
    cmd: CreateUser,
    principal: Principal = Depends(require_roles(*CREATORS)),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    return user_json(await users.create_user(cmd, principal=principal, deps=d))


@router.get("/users")
async def list_users(
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    principal: Principal = Depends(require_roles(*READERS)),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    actor, found, next_cursor = await users.list_users(
        role, limit, cursor, principal=principal, deps=d
    )
    return {"items": [user_json(u, viewer=actor) for u in found], "next_cursor": next_cursor}


@router.get("/users/{user_id}")
async def get_user(
    user_id: str = id_path(),
    principal: Principal = Depends(current_principal),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    actor, user = await users.get_user(user_id, principal=principal, deps=d)
    return user_json(user, viewer=actor)


@router.put("/users/{user_id}/role")
async def change_role(
    cmd: ChangeRole,
    user_id: str = id_path(),
    principal: Principal = Depends(require_roles("council_admin")),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    return user_json(await users.change_role(user_id, cmd, principal=principal, deps=d))


@router.post("/users/{user_id}/deactivate")
async def deactivate(
    user_id: str = id_path(),
    principal: Principal = Depends(require_roles(*ADMINS)),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    return user_json(await users.deactivate_user(user_id, principal=principal, deps=d))


@router.post("/tenants", status_code=201)
async def create_tenant(
    cmd: CreateTenant,
    principal: Principal = Depends(require_roles("platform_admin")),
    d: IdentityDeps = Depends(deps),
) -> dict[str, Any]:
    tenant, admin = await tenants.create_tenant(cmd, principal=principal, deps=d)
    return {**tenant_json(tenant), "admin": user_json(admin)}
