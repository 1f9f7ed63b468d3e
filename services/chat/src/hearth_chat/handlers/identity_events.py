"""What chat does with identity's events: the kit keeps chat's view of people and
circles (`hearth_kit.people.events`); chat adds the erasure of a person's words."""

from __future__ import annotations

from hearth_chat.handlers.context import ChatDeps
from hearth_kit.people.events import PeopleEvents
from hearth_kit.store import ConcurrencyConflict

ERASE_PAGE = 200
_SAVE_ATTEMPTS = 5


def people_events(deps: ChatDeps) -> PeopleEvents:
    """The handlers of identity's events, bound to chat's dependencies. A deactivated
    person's sockets are closed by every replica's feed, not here."""

    async def erased(tenant_id: str, user_id: str) -> None:
        await erase_words(tenant_id, user_id, deps=deps)

    return PeopleEvents(deps.repos.directory, erased=erased)


async def erase_words(tenant_id: str, user_id: str, *, deps: ChatDeps) -> None:
    """Erase what the person wrote (text and edit history) and their memberships; ids
    and times stay so the conversations others took part in still read in order."""
    cursor: str | None = None
    while True:
        page, cursor = await deps.repos.messages.by_author(
            tenant_id, user_id, limit=ERASE_PAGE, cursor=cursor
        )
        for message, version in page:
            for _ in range(_SAVE_ATTEMPTS):
                try:
                    await deps.repos.messages.save(message.erased(), version=version)
                    break
                except ConcurrencyConflict:
                    loaded = await deps.repos.messages.get(tenant_id, message.id)
                    if loaded is None:
                        break
                    message, version = loaded
        if cursor is None:
            break
    await deps.repos.memberships.erase_user(tenant_id, user_id)
