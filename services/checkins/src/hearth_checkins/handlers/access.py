"""Deciding, per request, how the caller relates to the resident and whether they may act.

The relation comes from the token (self, staff) or from the circles identity told us
about (circle). The resident must be someone check-ins knows as an active resident of
the caller's council; staff acting on a resident registered a moment ago are answered by
asking identity directly (see `adapters.identity_client`).
"""

from __future__ import annotations

from hearth_checkins.adapters.identity_client import IdentityUnavailable
from hearth_checkins.adapters.repositories import Person
from hearth_checkins.domain import (
    Action,
    Actor,
    NotFoundError,
    Relation,
    Unavailable,
    authorize,
    relation_to,
)
from hearth_checkins.handlers.context import CheckinsDeps


def _not_found() -> NotFoundError:
    return NotFoundError("resident not found", code="resident_not_found")


async def access(
    actor: Actor, resident_id: str, action: Action, *, deps: CheckinsDeps, token: str | None
) -> Relation:
    """The caller's relation to the resident, once they are allowed to do `action`.

    NotFoundError if they may not see the resident (or there is no such resident in their
    council); Forbidden if they may see but not do this."""
    directory = deps.repos.directory
    tenant = actor.tenant_id
    relation = relation_to(actor, resident_id, in_circle=False)
    if relation is Relation.NONE and await directory.in_circle(tenant, resident_id, actor.user_id):
        relation = Relation.CIRCLE
    authorize(relation, action)
    person = await directory.person(tenant, resident_id)
    if person is None and relation is Relation.STAFF:
        person = await _ask_identity(resident_id, deps=deps, token=token)
        if person is not None:
            await directory.remember_person(
                tenant, resident_id, role=person.role, active=person.active
            )
    if person is not None and not person.active:
        raise _not_found()
    if relation is Relation.STAFF and (person is None or person.role != "resident"):
        raise _not_found()
    return relation


async def _ask_identity(
    resident_id: str, *, deps: CheckinsDeps, token: str | None
) -> Person | None:
    if deps.lookup_user is None or token is None:
        return None
    try:
        return await deps.lookup_user(resident_id, token=token)
    except IdentityUnavailable as exc:
        raise Unavailable(
            "cannot confirm the resident with identity right now; retry shortly"
        ) from exc
