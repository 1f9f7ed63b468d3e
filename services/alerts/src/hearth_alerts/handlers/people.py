"""Checking, per request, the people a request names (rules in `domain.people`).

People come from identity's events; when those have not arrived yet, alerts asks
identity with the caller's own token (the kit's `hearth_kit.people`), so identity applies
its own tenancy: another council's id is nobody here. Every check runs before anything is
written, so a refusal or identity being down leaves nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable

from hearth_alerts.domain.errors import Unavailable
from hearth_alerts.domain.people import Reference, check_contact_subject, check_responder
from hearth_alerts.handlers.context import AlertsDeps
from hearth_kit.auth import Principal
from hearth_kit.people import Person
from hearth_kit.people.identity import IdentityUnavailable


async def person(
    tenant_id: str, user_id: str, *, deps: AlertsDeps, token: str | None
) -> Person | None:
    """Someone of the council, asking identity (with `token`) if alerts has not heard of
    them; Unavailable (503) when identity cannot answer."""
    try:
        return await deps.people.person(tenant_id, user_id, token=token)
    except IdentityUnavailable as exc:
        raise Unavailable("cannot check the user with identity right now; retry shortly") from exc


async def check_responders(
    references: Iterable[Reference], *, principal: Principal, deps: AlertsDeps, token: str | None
) -> None:
    """Every person named can be on call in the caller's council; the first who cannot
    is refused (422 naming their field)."""
    seen: dict[str, Person | None] = {}
    for user_id, field in references:
        if user_id not in seen:
            seen[user_id] = await person(principal.tenant_id, user_id, deps=deps, token=token)
        check_responder(seen[user_id], field=field)


async def contact_subject(
    user_id: str, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> Person | None:
    """The person whose contact methods are read or written. The caller themself needs
    no look-up (their token says who they are); anyone else must be a person of the
    caller's council (404, the same as for a made-up id, otherwise)."""
    if user_id == principal.user_id:
        return None
    found = await person(principal.tenant_id, user_id, deps=deps, token=token)
    return check_contact_subject(found)
