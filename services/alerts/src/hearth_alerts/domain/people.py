"""Who alerts may page: the rules on the people a rota, an override, a policy or a
reassignment names, and on the people an escalation step resolves to.

People are identity's (`hearth_kit.people.Person`): alerts keeps a projection of them and
asks identity about ids its events have not brought yet. Only council staff are on-call
responders; residents, their families and carers are told through the resident and
circle targets, never put on call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from hearth_alerts.domain.errors import InvalidInput, NotFoundError
from hearth_alerts.domain.escalation import Step
from hearth_alerts.domain.rota import Layer
from hearth_kit.people import Person

# (user id, the field of the request that names them)
Reference = tuple[str, str]
SkipReason = Literal["deactivated", "not_staff"]


def layer_members(layers: Iterable[Layer]) -> list[Reference]:
    return [
        (user, f"layers.{i}.users.{j}")
        for i, layer in enumerate(layers)
        for j, user in enumerate(layer.users)
    ]


def override_members(user_id: str, with_user_id: str | None) -> list[Reference]:
    found = [(user_id, "user_id")]
    if with_user_id is not None:
        found.append((with_user_id, "with_user_id"))
    return found


def policy_users(steps: Iterable[Step]) -> list[Reference]:
    return [
        (target.user_id, f"steps.{i}.targets.{j}.user_id")
        for i, step in enumerate(steps)
        for j, target in enumerate(step.targets)
        if target.user_id is not None
    ]


def check_responder(person: Person | None, *, field: str) -> Person:
    """The person, if they can be on call: known in the caller's council, active, staff.

    Another council's id is answered exactly as a made-up one (identity does not show
    it to the caller), so the message names neither."""
    if person is None:
        raise InvalidInput("no such user in this council", field=field, code="unknown_user")
    if not person.active:
        raise InvalidInput(
            "this user's account is deactivated", field=field, code="user_deactivated"
        )
    if not person.is_staff:
        raise InvalidInput(
            "only council staff (professional, oncall, council_admin) can be on call",
            field=field,
            code="not_a_responder",
        )
    return person


def check_contact_subject(person: Person | None) -> Person:
    """Someone whose contact methods an administrator manages: a person of the council.
    Unknown and other councils' ids get one answer, which names no id."""
    if person is None:
        raise NotFoundError("user not found", code="user_not_found")
    return person


def resident_author(person: Person | None) -> str | None:
    """The resident a flagged message is about, from its author: a resident writing about
    themself. Family, carers and staff write too, and someone alerts has not heard of may
    be anyone, so for them the alert names no resident."""
    if person is None or person.role != "resident":
        return None
    return person.user_id


def skip_reason(person: Person | None, *, as_staff: bool) -> SkipReason | None:
    """Why an escalation step must not page someone it resolved to, if it must not.

    Someone alerts has not heard of is paged: a lost or late event must never silence a
    step (they were checked when the rota or policy was saved)."""
    if person is None:
        return None
    if not person.active:
        return "deactivated"
    if as_staff and not person.is_staff:
        return "not_staff"
    return None
