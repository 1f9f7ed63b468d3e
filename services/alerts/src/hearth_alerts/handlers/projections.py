"""Alerts' own projection of residents' circles of support, from identity's events, and
what alerts forgets when a person is erased. (People themselves are the kit's
projection; `handlers.identity_events` wires both.)"""

from __future__ import annotations

from hearth_alerts.domain.circle import Circle
from hearth_alerts.handlers.context import AlertsDeps
from hearth_contracts import Envelope
from hearth_contracts.identity import CircleMemberAdded, CircleMemberRemoved


async def _apply(
    tenant_id: str,
    resident_id: str,
    member_id: str,
    *,
    present: bool,
    at: float,
    relationship: str | None,
    deps: AlertsDeps,
) -> None:
    def change(current: Circle | None) -> Circle:
        circle = current or Circle(resident_id=resident_id)
        circle.apply(member_id, present=present, at=at, relationship=relationship)
        return circle

    await deps.repos.circles.upsert(tenant_id, resident_id, change)


async def on_circle_member_added(
    data: CircleMemberAdded, envelope: Envelope, *, deps: AlertsDeps
) -> None:
    await _apply(
        envelope.tenant_id,
        data.resident_id,
        data.member_id,
        present=True,
        at=envelope.occurred_at.timestamp(),
        relationship=data.relationship,
        deps=deps,
    )


async def on_circle_member_removed(
    data: CircleMemberRemoved, envelope: Envelope, *, deps: AlertsDeps
) -> None:
    await _apply(
        envelope.tenant_id,
        data.resident_id,
        data.member_id,
        present=False,
        at=envelope.occurred_at.timestamp(),
        relationship=None,
        deps=deps,
    )


async def erase_person(tenant_id: str, user_id: str, *, deps: AlertsDeps) -> None:
    """Forget how to reach the person (their contact methods are personal data), and
    their own circle projection; alerts keep only ids."""
    await deps.repos.contacts.delete(tenant_id, user_id)
    await deps.repos.circles.delete(tenant_id, user_id)
