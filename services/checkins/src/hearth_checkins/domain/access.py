"""Who may do what about a resident's check-ins.

- The resident acts for themself.
- Staff of the resident's council (professional, on-call, council administrator) see and
  manage everything about any resident of their council.
- Members of the resident's circle of support (family, carers, ...) see the schedule and
  check-ins and may ask for help; they do not change schedules or check in for the person.
- Nobody else learns anything, not even that the resident exists: the answer is 404.
  (Another council's residents are never found in the first place: every lookup is
  scoped by the caller's council.)
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from hearth_checkins.domain.errors import Forbidden, NotFoundError
from hearth_kit.people.model import Actor

__all__ = ["Action", "Actor", "Relation", "authorize", "relation_to"]

Action = Literal["view", "manage", "check_in", "help"]


class Relation(Enum):
    SELF = "self"
    STAFF = "staff"
    CIRCLE = "circle"
    NONE = "none"


_ALLOWED: dict[Relation, frozenset[str]] = {
    Relation.SELF: frozenset({"view", "manage", "check_in", "help"}),
    Relation.STAFF: frozenset({"view", "manage", "check_in", "help"}),
    Relation.CIRCLE: frozenset({"view", "help"}),
    Relation.NONE: frozenset(),
}


def relation_to(actor: Actor, resident_id: str, *, in_circle: bool) -> Relation:
    if actor.user_id == resident_id and actor.is_resident:
        return Relation.SELF
    if actor.is_staff:
        return Relation.STAFF
    if in_circle:
        return Relation.CIRCLE
    return Relation.NONE


def authorize(relation: Relation, action: Action) -> None:
    """Raise NotFoundError if the caller may not see the resident, Forbidden if they may
    see but not do `action`."""
    if relation is Relation.NONE:
        raise NotFoundError("resident not found", code="resident_not_found")
    if action not in _ALLOWED[relation]:
        raise Forbidden(f"{relation.value} may not {action.replace('_', ' ')} for this resident")
