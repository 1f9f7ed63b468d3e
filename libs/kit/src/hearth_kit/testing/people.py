"""The people services' tests share: two councils, their residents, family and staff,
told to a service through identity's events; and identity's HTTP API, faked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hearth_contracts import Envelope, EventData, new_envelope
from hearth_contracts.identity import CircleMemberAdded, Relationship, Role, UserRegistered
from hearth_kit.people.events import PeopleEvents
from hearth_kit.people.identity import IdentityUnavailable
from hearth_kit.people.model import CircleMember, Person
from hearth_kit.testing.tokens import TokenSigner

NORTH = "tenant-north"
SOUTH = "tenant-south"

# user id -> (council, roles)
PEOPLE: dict[str, tuple[str, tuple[Role, ...]]] = {
    "rita": (NORTH, ("resident",)),
    "ron": (NORTH, ("resident",)),
    "pat": (NORTH, ("professional",)),
    "olly": (NORTH, ("oncall",)),
    "ada": (NORTH, ("council_admin",)),
    "dana": (NORTH, ("family",)),  # in Rita's circle
    "carl": (NORTH, ("carer",)),  # in nobody's circle
    "sam": (SOUTH, ("resident",)),
    "sue": (SOUTH, ("professional",)),
    "root": ("platform", ("platform_admin",)),
}
# (council, resident, member, relationship)
CIRCLES: tuple[tuple[str, str, str, Relationship], ...] = ((NORTH, "rita", "dana", "family"),)


def identity_envelope(data: EventData, tenant_id: str, subject: str) -> Envelope:
    return new_envelope(data, tenant_id=tenant_id, subject=subject, producer="identity")


async def seed_people(
    events: PeopleEvents,
    people: dict[str, tuple[str, tuple[Role, ...]]] = PEOPLE,
    circles: Iterable[tuple[str, str, str, Relationship]] = CIRCLES,
) -> None:
    """What identity's events would have told a service about the world."""
    for user, (tenant, roles) in people.items():
        registered = UserRegistered(user_id=user, role=roles[0])
        await events.on_user_registered(registered, identity_envelope(registered, tenant, user))
    for tenant, resident, member, relationship in circles:
        added = CircleMemberAdded(
            resident_id=resident, member_id=member, relationship=relationship, consent_by=resident
        )
        await events.on_circle_member_added(added, identity_envelope(added, tenant, resident))


def headers_for(signer: TokenSigner, user: str, **claims: Any) -> dict[str, str]:
    """The Authorization header of one of `PEOPLE`, in their council with their roles."""
    tenant, roles = PEOPLE[user]
    return signer.headers(user_id=user, tenant_id=tenant, tenant_slug=tenant, roles=roles, **claims)


@dataclass
class FakeIdentity:
    """Identity's HTTP API as a service sees it (an `IdentityLookup`): the users and
    circles it knows, the calls it was asked (`user:<id>`, `circle:<id>`), and `down`."""

    users: dict[str, Person] = field(default_factory=dict)
    circles: dict[str, list[CircleMember]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    down: bool = False

    async def user(self, user_id: str, *, token: str) -> Person | None:
        self._called(f"user:{user_id}")
        return self.users.get(user_id)

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None:
        self._called(f"circle:{resident_id}")
        return self.circles.get(resident_id)

    def _called(self, call: str) -> None:
        self.calls.append(call)
        if self.down:
            raise IdentityUnavailable("identity unreachable: ConnectError")
