"""Accounts: create, read, list, change role, deactivate."""

from __future__ import annotations

from hearth_identity.adapters.repositories import Loaded
from hearth_identity.commands import ChangeRole, CreateUser
from hearth_identity.domain import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFoundError,
    Role,
    Tenant,
    User,
    can_read,
    check_can_create,
    check_can_list,
)
from hearth_identity.domain.users import READERS
from hearth_identity.handlers.auth import revoke_all_sessions
from hearth_identity.handlers.context import IdentityDeps, load_actor, retry_cas
from hearth_kit.auth import Principal
from hearth_kit.store.port import DuplicateKey

EMAIL_TAKEN = "an account with this email already exists in this council"


async def _responsible(cmd: CreateUser, actor: User, deps: IdentityDeps) -> str | None:
    wanted = cmd.responsible_professional_id
    if cmd.role != "resident":
        if wanted is not None:
            raise InvalidInput(
                "only residents have a responsible professional",
                field="responsible_professional_id",
            )
        return None
    if actor.role == "professional":
        if wanted not in (None, actor.id):
            raise Forbidden(
                "a professional creates residents they are responsible for",
                field="responsible_professional_id",
            )
        return actor.id
    if wanted is None:
        return None
    found = await deps.repos.users.get(actor.tenant_id, wanted)
    if found is None or found.item.role != "professional" or not found.item.active:
        raise InvalidInput(
            "responsible_professional_id must be an active professional of this council",
            field="responsible_professional_id",
        )
    return wanted


async def create_user(cmd: CreateUser, *, principal: Principal, deps: IdentityDeps) -> User:
    actor = (await load_actor(principal, deps)).item
    check_can_create(actor, cmd.role)
    responsible = await _responsible(cmd, actor, deps)
    deps.passwords.check(cmd.password, email=cmd.email, name=cmd.display_name)
    if await deps.repos.users.by_email(actor.tenant_id, cmd.email) is not None:
        raise Conflict(EMAIL_TAKEN, field="email")
    password_hash = await deps.hash_password(cmd.password)
    user, registered = User.register(
        user_id=deps.new_id(),
        tenant_id=actor.tenant_id,
        email=cmd.email,
        display_name=cmd.display_name,
        role=cmd.role,
        password_hash=password_hash,
        now=deps.clock(),
        created_by=actor.id,
        responsible_id=responsible,
    )
    try:
        await deps.repos.users.insert(user, [(registered, user.id)])
    except DuplicateKey as exc:
        raise Conflict(EMAIL_TAKEN, field="email") from exc
    return user


async def get_user(user_id: str, *, principal: Principal, deps: IdentityDeps) -> tuple[User, User]:
    """(actor, target): a user reads themselves; staff read anyone in their council."""
    actor = (await load_actor(principal, deps)).item
    if actor.id != user_id and actor.role not in READERS:
        raise Forbidden("you may read only your own account")
    found = await deps.repos.users.get(actor.tenant_id, user_id)
    if found is None or not can_read(actor, found.item):
        raise NotFoundError("user not found")
    return actor, found.item


async def list_users(
    role: Role | None,
    limit: int,
    cursor: str | None,
    *,
    principal: Principal,
    deps: IdentityDeps,
) -> tuple[User, list[User], str | None]:
    actor = (await load_actor(principal, deps)).item
    check_can_list(actor)
    users, next_cursor = await deps.repos.users.page(
        actor.tenant_id, role=role, limit=limit, cursor=cursor
    )
    return actor, users, next_cursor


async def me(*, principal: Principal, deps: IdentityDeps) -> tuple[User, Tenant]:
    actor = (await load_actor(principal, deps)).item
    tenant = await deps.repos.tenants.get(actor.tenant_id)
    if tenant is None:
        raise NotFoundError("council not found")
    return actor, tenant


async def _target(actor: User, user_id: str, deps: IdentityDeps) -> Loaded[User]:
    found = await deps.repos.users.get(actor.tenant_id, user_id)
    if found is None:
        raise NotFoundError("user not found")
    return found


async def change_role(
    user_id: str, cmd: ChangeRole, *, principal: Principal, deps: IdentityDeps
) -> User:
    actor = (await load_actor(principal, deps)).item
    if actor.role != "council_admin":
        raise Forbidden("only a council administrator may change roles")

    async def attempt() -> User:
        found = await _target(actor, user_id, deps)
        event = found.item.change_role(cmd.role, actor=actor, now=deps.clock())
        if event is not None:
            await deps.repos.users.save(found, [(event, found.item.id)])
        return found.item

    return await retry_cas(attempt)


async def deactivate_user(user_id: str, *, principal: Principal, deps: IdentityDeps) -> User:
    """Deactivate and revoke every session; access tokens already issued expire soon."""
    actor = (await load_actor(principal, deps)).item
    if actor.role not in ("council_admin", "platform_admin"):
        raise Forbidden("only an administrator may deactivate users")

    async def attempt() -> User:
        found = await _target(actor, user_id, deps)
        event = found.item.deactivate(actor=actor, now=deps.clock())
        if event is not None:
            await deps.repos.users.save(found, [(event, found.item.id)])
        return found.item

    user = await retry_cas(attempt)
    await revoke_all_sessions(user.tenant_id, user.id, "deactivated", deps)
    return user
