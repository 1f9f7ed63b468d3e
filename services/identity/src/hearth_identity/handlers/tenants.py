"""Councils (tenants) and the platform tenant with its first administrator."""

from __future__ import annotations

import logging

from hearth_identity.commands import CreateTenant
from hearth_identity.domain import PLATFORM_SLUG, Conflict, Forbidden, Tenant, User
from hearth_identity.handlers.context import IdentityDeps, load_actor
from hearth_kit.auth import Principal
from hearth_kit.store.port import DuplicateKey

logger = logging.getLogger("hearth.identity")
SLUG_TAKEN = "a council with this slug already exists"


async def create_tenant(
    cmd: CreateTenant, *, principal: Principal, deps: IdentityDeps
) -> tuple[Tenant, User]:
    """A council and its first council administrator.

    Two documents without a transaction: the administrator is written first, in a council
    that does not exist yet (so it cannot be used), and the council last, with both events
    in its outbox. The council's unique slug is the commit point; a lost race removes the
    administrator again, and a crash in between leaves only an unreachable record.
    """
    actor = (await load_actor(principal, deps)).item
    if actor.role != "platform_admin":
        raise Forbidden("only a platform administrator may create councils")
    now = deps.clock()
    tenant, created = Tenant.create(
        tenant_id=deps.new_id(),
        slug=cmd.slug,
        name=cmd.name,
        timezone=cmd.timezone,
        now=now,
        created_by=actor.id,
    )
    admin = cmd.admin
    deps.passwords.check(admin.password, email=admin.email, name=admin.display_name)
    if await deps.repos.tenants.by_slug(tenant.slug) is not None:
        raise Conflict(SLUG_TAKEN, field="slug")
    user, registered = User.register(
        user_id=deps.new_id(),
        tenant_id=tenant.id,
        email=admin.email,
        display_name=admin.display_name,
        role="council_admin",
        password_hash=await deps.hash_password(admin.password),
        now=now,
        created_by=actor.id,
    )
    await deps.repos.users.insert(user)
    try:
        await deps.repos.tenants.insert(tenant, [(created, tenant.id), (registered, user.id)])
    except DuplicateKey as exc:
        await deps.repos.users.delete(tenant.id, user.id)
        raise Conflict(SLUG_TAKEN, field="slug") from exc
    return tenant, user


async def ensure_platform(email: str | None, password: str | None, *, deps: IdentityDeps) -> Tenant:
    """The platform tenant, and a platform administrator from the bootstrap settings if
    none exists yet. Safe to run on every start of every replica."""
    platform = await deps.repos.tenants.by_slug(PLATFORM_SLUG)
    if platform is None:
        platform, created = Tenant.create(
            tenant_id=deps.new_id(),
            slug=PLATFORM_SLUG,
            name="Hearth platform",
            timezone="UTC",
            now=deps.clock(),
            created_by=None,
        )
        try:
            await deps.repos.tenants.insert(platform, [(created, platform.id)])
        except DuplicateKey:
            platform = await deps.repos.tenants.by_slug(PLATFORM_SLUG)
            if platform is None:
                raise
    if await deps.repos.users.exists_with_role(platform.id, "platform_admin"):
        return platform
    if not email or not password:
        logger.warning(
            "no platform administrator exists: set IDENTITY_BOOTSTRAP_ADMIN_EMAIL and "
            "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD to create one"
        )
        return platform
    user, registered = User.register(
        user_id=deps.new_id(),
        tenant_id=platform.id,
        email=email,
        display_name="Platform administrator",
        role="platform_admin",
        password_hash=None,
        now=deps.clock(),
        created_by=None,
    )
    deps.passwords.check(password, email=user.email, name=None)
    user.password_hash = await deps.hash_password(password)
    try:
        await deps.repos.users.insert(user, [(registered, user.id)])
        logger.info("created the platform administrator")
    except DuplicateKey:
        pass  # another replica created it
    return platform
