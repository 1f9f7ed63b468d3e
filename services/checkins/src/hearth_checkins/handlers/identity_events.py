"""What check-ins does with identity's events: keep its local view of people, circles and
councils, and stop deadlines for residents who leave or are erased."""

from __future__ import annotations

from dataclasses import replace

from hearth_checkins.domain import Effect, NotFoundError, ResidentCheckIns
from hearth_checkins.handlers.context import CheckinsDeps, change_state
from hearth_contracts import Envelope
from hearth_contracts.identity import (
    CircleMemberAdded,
    CircleMemberRemoved,
    TenantCreated,
    UserDeactivated,
    UserErasureRequested,
    UserRegistered,
    UserRoleChanged,
)


async def on_tenant_created(data: TenantCreated, envelope: Envelope, *, deps: CheckinsDeps) -> None:
    await deps.repos.directory.remember_council(data.tenant_id, data.timezone)


async def on_user_registered(
    data: UserRegistered, envelope: Envelope, *, deps: CheckinsDeps
) -> None:
    await deps.repos.directory.remember_person(
        envelope.tenant_id, data.user_id, role=data.role, active=True
    )


async def on_role_changed(data: UserRoleChanged, envelope: Envelope, *, deps: CheckinsDeps) -> None:
    await deps.repos.directory.remember_person(envelope.tenant_id, data.user_id, role=data.new_role)


async def on_user_deactivated(
    data: UserDeactivated, envelope: Envelope, *, deps: CheckinsDeps
) -> None:
    """A deactivated resident has nothing due any more; a deactivated member of a circle
    sees nothing any more."""
    tenant = envelope.tenant_id
    await deps.repos.directory.remember_person(tenant, data.user_id, active=False)
    await deps.repos.directory.remove_member_everywhere(tenant, data.user_id)
    await _stop(tenant, data.user_id, deps=deps, erase=False)


async def on_erasure_requested(
    data: UserErasureRequested, envelope: Envelope, *, deps: CheckinsDeps
) -> None:
    """Erase what check-ins holds about the person: history, help requests, notes and the
    schedule. Only ids remain on the (inactive) state, with any events still to publish."""
    tenant = envelope.tenant_id
    await _stop(tenant, data.user_id, deps=deps, erase=True)
    await deps.repos.history.erase(tenant, data.user_id)
    await deps.repos.help_requests.erase(tenant, data.user_id)
    await deps.repos.directory.forget_person(tenant, data.user_id)


async def on_circle_member_added(
    data: CircleMemberAdded, envelope: Envelope, *, deps: CheckinsDeps
) -> None:
    await deps.repos.directory.add_to_circle(
        envelope.tenant_id, data.resident_id, data.member_id, data.relationship
    )


async def on_circle_member_removed(
    data: CircleMemberRemoved, envelope: Envelope, *, deps: CheckinsDeps
) -> None:
    await deps.repos.directory.remove_from_circle(
        envelope.tenant_id, data.resident_id, data.member_id
    )


async def _stop(tenant_id: str, user_id: str, *, deps: CheckinsDeps, erase: bool) -> None:
    def change(state: ResidentCheckIns) -> tuple[ResidentCheckIns, list[Effect], None]:
        stopped = state.deactivated()
        if erase:
            stopped = replace(
                stopped, schedule=None, pauses=(), recent=(), unrecovered=(), last=None
            )
        return stopped, [], None

    try:
        await change_state(tenant_id, user_id, change, deps=deps, include_inactive=True)
    except NotFoundError:
        pass  # never had a schedule or a check-in
