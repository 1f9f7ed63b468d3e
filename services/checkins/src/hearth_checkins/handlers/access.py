"""Deciding, per request, how the caller relates to the resident and whether they may act.

The relation comes from the token (self, staff) or from the circles identity told us
about (circle). The resident must be someone check-ins knows as an active resident of
the caller's council; staff acting on a resident registered a moment ago are answered by
asking identity directly (the kit's `hearth_kit.people`).
"""

from __future__ import annotations

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
from hearth_kit.people.identity import IdentityUnavailable


def _not_found() -> NotFoundError:
    return NotFoundError("resident not found", code="resident_not_found")


async def access(
    actor: Actor, resident_id: str, action: Action, *, deps: CheckinsDeps, token: str | None
) -> Relation:
    """The caller's relation to the resident, once they are allowed to do `action`.

    NotFoundError if they may not see the resident (or there is no such resident in their
    council); Forbidden if they may see but not do this."""
    tenant = actor.tenant_id
    relation = relation_to(actor, resident_id, in_circle=False)
    if relation is Relation.NONE and await deps.repos.directory.in_circle(
        tenant, resident_id, actor.user_id
    ):
        relation = Relation.CIRCLE
    authorize(relation, action)
    # Only staff may learn from identity about a resident check-ins has not heard of.
    asking = token if relation is Relation.STAFF else None
    try:
        person = await deps.people.person(tenant, resident_id, token=asking)
    except IdentityUnavailable as exc:
        raise Unavailable(
            "cannot confirm the resident with identity right now; retry shortly"
        ) from exc
    if person is not None and not person.active:
        raise _not_found()
    if relation is Relation.STAFF and (person is None or person.role != "resident"):
        raise _not_found()
    return relation
