"""What check-ins does with identity's events: the kit keeps its view of people and
circles (`hearth_kit.people.events`); check-ins remembers each council's timezone and
stops deadlines for residents who leave or are erased."""

from __future__ import annotations

from dataclasses import replace

from hearth_checkins.domain import Effect, NotFoundError, ResidentCheckIns
from hearth_checkins.handlers.context import CheckinsDeps, change_state
from hearth_contracts import Envelope
from hearth_contracts.identity import TenantCreated
from hearth_kit.people.events import PeopleEvents


async def on_tenant_created(data: TenantCreated, envelope: Envelope, *, deps: CheckinsDeps) -> None:
    await deps.repos.councils.remember(data.tenant_id, data.timezone)


def people_events(deps: CheckinsDeps) -> PeopleEvents:
    """The handlers of identity's events about people, bound to check-ins' dependencies:
    a deactivated resident has nothing due any more; an erased one loses what check-ins
    holds about them."""

    async def deactivated(tenant_id: str, user_id: str) -> None:
        await _stop(tenant_id, user_id, deps=deps, erase=False)

    async def erased(tenant_id: str, user_id: str) -> None:
        await erase_resident(tenant_id, user_id, deps=deps)

    return PeopleEvents(deps.repos.directory, deactivated=deactivated, erased=erased)


async def erase_resident(tenant_id: str, user_id: str, *, deps: CheckinsDeps) -> None:
    """History, help requests, notes and the schedule go. Only ids remain on the
    (inactive) state, with any events still to publish."""
    await _stop(tenant_id, user_id, deps=deps, erase=True)
    await deps.repos.history.erase(tenant_id, user_id)
    await deps.repos.help_requests.erase(tenant_id, user_id)


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
