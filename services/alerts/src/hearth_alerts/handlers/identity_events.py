"""What alerts does with identity's events: the kit keeps alerts' view of people
(`hearth_kit.people.events`: registered, role changed, deactivated, erased); alerts keeps
circles of support in its own projection and forgets how to reach an erased person.

A deactivated person stays wherever a rota or policy names them until an administrator
changes it; escalation steps skip them (see `handlers.recipients`)."""

from __future__ import annotations

from hearth_alerts.handlers import projections
from hearth_alerts.handlers.context import AlertsDeps
from hearth_contracts import Envelope
from hearth_contracts.identity import CircleMemberAdded, CircleMemberRemoved
from hearth_kit.people.events import PeopleEvents


class AlertsPeopleEvents(PeopleEvents):
    """The kit's handlers of identity's events, except circle changes: alerts' own circle
    projection keeps the latest change per member, because adds and removals travel on
    different topics and may arrive out of order."""

    def __init__(self, deps: AlertsDeps) -> None:
        async def erased(tenant_id: str, user_id: str) -> None:
            await projections.erase_person(tenant_id, user_id, deps=deps)

        super().__init__(deps.repos.directory, erased=erased)
        self._deps = deps

    async def on_circle_member_added(self, data: CircleMemberAdded, envelope: Envelope) -> None:
        await projections.on_circle_member_added(data, envelope, deps=self._deps)

    async def on_circle_member_removed(self, data: CircleMemberRemoved, envelope: Envelope) -> None:
        await projections.on_circle_member_removed(data, envelope, deps=self._deps)


def people_events(deps: AlertsDeps) -> PeopleEvents:
    """The handlers of identity's events, bound to alerts' dependencies."""
    return AlertsPeopleEvents(deps)
