"""Who may do what about a resident's check-ins."""

from __future__ import annotations

import pytest

from hearth_checkins.domain import Actor, Forbidden, NotFoundError, Relation, authorize, relation_to


def actor(user: str, *roles: str) -> Actor:
    return Actor(user_id=user, tenant_id="t1", roles=frozenset(roles))


@pytest.mark.parametrize(
    ("who", "in_circle", "relation"),
    [
        (actor("rita", "resident"), False, Relation.SELF),
        (actor("pat", "professional"), False, Relation.STAFF),
        (actor("olly", "oncall"), False, Relation.STAFF),
        (actor("ada", "council_admin"), False, Relation.STAFF),
        (actor("dana", "family"), True, Relation.CIRCLE),
        (actor("carl", "carer"), False, Relation.NONE),
        (actor("ron", "resident"), False, Relation.NONE),
        (actor("ron", "resident"), True, Relation.CIRCLE),  # a neighbour in her circle
        (actor("root", "platform_admin"), False, Relation.NONE),
        (actor("rita", "family"), False, Relation.NONE),  # same id, not as a resident
    ],
)
def test_relation(who: Actor, in_circle: bool, relation: Relation) -> None:
    assert relation_to(who, "rita", in_circle=in_circle) is relation


def test_what_each_relation_may_do() -> None:
    for action in ("view", "manage", "check_in", "help"):
        authorize(Relation.SELF, action)  # type: ignore[arg-type]
        authorize(Relation.STAFF, action)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            authorize(Relation.NONE, action)  # type: ignore[arg-type]
    authorize(Relation.CIRCLE, "view")
    authorize(Relation.CIRCLE, "help")
    for action in ("manage", "check_in"):
        with pytest.raises(Forbidden):
            authorize(Relation.CIRCLE, action)  # type: ignore[arg-type]
