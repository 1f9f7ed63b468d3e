"""Circles of support: invite, join with a one-time code, view, remove."""

from __future__ import annotations

from dataclasses import dataclass

from hearth_identity.adapters.repositories import Event, Loaded
from hearth_identity.commands import CreateInvitation, JoinCircle
from hearth_identity.domain import (
    Circle,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    Invitation,
    InvitationCode,
    NotFoundError,
    User,
    may_manage,
    role_for,
)
from hearth_identity.handlers.context import IdentityDeps, load_actor, load_resident, retry_cas
from hearth_kit.auth import Principal
from hearth_kit.store.port import ConcurrencyConflict, DuplicateKey

BAD_CODE = "invitation code is invalid"
EMAIL_TAKEN = (
    "an account with this email already exists: sign in and join with the code while signed in"
)


@dataclass(frozen=True)
class CircleView:
    circle: Circle
    members: dict[str, User]
    # Whether the caller may see invitations and the audit trail.
    manager: bool


async def invite(
    resident_id: str, cmd: CreateInvitation, *, principal: Principal, deps: IdentityDeps
) -> tuple[Invitation, InvitationCode]:
    actor = (await load_actor(principal, deps)).item
    resident = await load_resident(actor.tenant_id, resident_id, deps)

    async def attempt() -> tuple[Invitation, InvitationCode]:
        loaded = await deps.repos.circles.get_or_new(actor.tenant_id, resident_id)
        result = loaded.item.invite(
            actor=actor,
            resident=resident,
            relationship=cmd.relationship,
            consent_confirmed=cmd.consent_confirmed,
            invitation_id=deps.new_id(),
            now=deps.clock(),
            policy=deps.circles,
        )
        await deps.repos.circles.save(loaded)
        return result

    return await retry_cas(attempt)


async def view_circle(resident_id: str, *, principal: Principal, deps: IdentityDeps) -> CircleView:
    actor = (await load_actor(principal, deps)).item
    resident = await load_resident(actor.tenant_id, resident_id, deps)
    circle = (await deps.repos.circles.get_or_new(actor.tenant_id, resident_id)).item
    if not circle.may_view(actor, resident):
        raise Forbidden("you are not in this resident's circle of support")
    members: dict[str, User] = {}
    for member in circle.members:
        found = await deps.repos.users.get(actor.tenant_id, member.member_id)
        if found is not None:
            members[member.member_id] = found.item
    return CircleView(circle, members, manager=may_manage(actor, resident))


async def remove_member(
    resident_id: str, member_id: str, *, principal: Principal, deps: IdentityDeps
) -> None:
    actor = (await load_actor(principal, deps)).item
    resident = await load_resident(actor.tenant_id, resident_id, deps)

    async def attempt() -> None:
        loaded = await deps.repos.circles.get(actor.tenant_id, resident_id)
        if loaded is None:
            if not may_manage(actor, resident) and actor.id != member_id:
                raise Forbidden("you may not change this resident's circle of support")
            raise NotFoundError("not a member of this circle")
        events = loaded.item.remove(member_id, actor=actor, resident=resident, now=deps.clock())
        await deps.repos.circles.save(loaded, [(e, resident_id) for e in events])

    await retry_cas(attempt)


async def revoke_invitation(
    resident_id: str, invitation_id: str, *, principal: Principal, deps: IdentityDeps
) -> None:
    actor = (await load_actor(principal, deps)).item
    resident = await load_resident(actor.tenant_id, resident_id, deps)

    async def attempt() -> None:
        loaded = await deps.repos.circles.get_or_new(actor.tenant_id, resident_id)
        loaded.item.revoke_invitation(
            invitation_id, actor=actor, resident=resident, now=deps.clock()
        )
        await deps.repos.circles.save(loaded)

    await retry_cas(attempt)


async def join(
    cmd: JoinCircle, *, principal: Principal | None, deps: IdentityDeps
) -> tuple[User, str]:
    """Accept an invitation: (the member, the relationship)."""
    code = InvitationCode.parse(cmd.code)
    if principal is not None:
        return await _join_existing(cmd, code, principal, deps)
    return await _join_new(cmd, code, deps)


async def _open_circle(tenant_id: str, code: InvitationCode, deps: IdentityDeps) -> Loaded[Circle]:
    found = await deps.repos.users.get(tenant_id, code.resident_id)
    loaded = await deps.repos.circles.get(tenant_id, code.resident_id)
    if found is None or found.item.role != "resident" or loaded is None:
        raise NotFoundError(BAD_CODE, field="code")
    loaded.item.open_invitation(code, now=deps.clock())
    return loaded


async def _accept(
    tenant_id: str, code: InvitationCode, member: User, extra: list[Event], deps: IdentityDeps
) -> str:
    """Record the member in the circle (the commit point); returns the relationship."""

    async def attempt() -> str:
        loaded = await _open_circle(tenant_id, code, deps)
        events = loaded.item.accept(code, member=member, now=deps.clock())
        await deps.repos.circles.save(loaded, [*extra, *((e, code.resident_id) for e in events)])
        added = loaded.item.member(member.id)
        assert added is not None
        return added.relationship

    return await retry_cas(attempt)


async def _join_existing(
    cmd: JoinCircle, code: InvitationCode, principal: Principal, deps: IdentityDeps
) -> tuple[User, str]:
    if cmd.email is not None or cmd.password is not None or cmd.display_name is not None:
        raise InvalidInput("signed in: send only the code (and optionally the council)")
    if cmd.tenant is not None and cmd.tenant.strip().lower() != principal.tenant_slug:
        raise Forbidden("the invitation is for another council than your account")
    actor = (await load_actor(principal, deps)).item
    return actor, await _accept(actor.tenant_id, code, actor, [], deps)


async def _join_new(cmd: JoinCircle, code: InvitationCode, deps: IdentityDeps) -> tuple[User, str]:
    missing = [
        n for n in ("tenant", "email", "password", "display_name") if getattr(cmd, n) is None
    ]
    if missing:
        raise InvalidInput(
            f"to join with a new account, also send: {', '.join(missing)}", field=missing[0]
        )
    assert cmd.tenant and cmd.email and cmd.password and cmd.display_name
    tenant = await deps.repos.tenants.by_slug(cmd.tenant.strip().lower())
    if tenant is None or tenant.is_platform:
        raise NotFoundError(BAD_CODE, field="code")
    invitation = (await _open_circle(tenant.id, code, deps)).item.open_invitation(
        code, now=deps.clock()
    )
    deps.passwords.check(cmd.password, email=cmd.email, name=cmd.display_name)
    existing = await deps.repos.users.by_email(tenant.id, cmd.email)
    resuming = (
        existing is not None
        and existing.item.status == "joining"
        and existing.item.joining_circle == code.resident_id
    )
    if existing is not None and not resuming:
        raise Conflict(EMAIL_TAKEN, field="email")
    password_hash = await deps.hash_password(cmd.password)
    user, registered = User.register(
        user_id=existing.item.id if existing else deps.new_id(),
        tenant_id=tenant.id,
        email=cmd.email,
        display_name=cmd.display_name,
        role=role_for(invitation.relationship),
        password_hash=password_hash,
        now=deps.clock(),
        created_by=invitation.invited_by,
        status="joining",
        joining_circle=code.resident_id,
    )
    # The account is written first, unusable ("joining"), and becomes real when the
    # circle records it: that save is the commit point and carries both events.
    try:
        stored = (
            await deps.repos.users.save(Loaded(user, existing.version))
            if existing is not None
            else await deps.repos.users.insert(user)
        )
    except (DuplicateKey, ConcurrencyConflict) as exc:
        raise Conflict(EMAIL_TAKEN, field="email") from exc
    try:
        relationship = await _accept(tenant.id, code, user, [(registered, user.id)], deps)
    except (DomainError, ConcurrencyConflict, DuplicateKey):
        await deps.repos.users.delete(tenant.id, user.id)
        raise
    user.finish_joining(deps.clock())
    try:
        await deps.repos.users.save(stored)
    except ConcurrencyConflict:
        pass  # finished at the next sign-in
    return user, relationship
