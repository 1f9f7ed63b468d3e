"""The projection of identity's people and circles: kept by identity's events, asked
first, with identity asked (and remembered) for what its events have not brought yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hearth_contracts.identity import (
    CircleMemberRemoved,
    UserDeactivated,
    UserErasureRequested,
    UserRoleChanged,
)
from hearth_kit.people import Actor, CircleMember, Person
from hearth_kit.people.directory import CIRCLES, PEOPLE, Directory, People
from hearth_kit.people.events import PeopleEvents
from hearth_kit.people.identity import IdentityUnavailable
from hearth_kit.store import Collection, CollectionSpec, SqliteStore
from hearth_kit.testing import NORTH, SOUTH, FakeIdentity, identity_envelope, seed_people


@pytest.fixture
async def directory(tmp_path: Path) -> AsyncIterator[Directory]:
    store = SqliteStore(tmp_path / "people.sqlite3")

    async def open_collection(spec: CollectionSpec, *, outbox: bool) -> Collection:
        return await store.collection(spec)

    yield await Directory.open(open_collection)
    await store.close()


async def test_the_declared_indexes_start_with_the_tenant() -> None:
    for spec in (PEOPLE, CIRCLES):
        assert all(ix.columns()[0] == "tenant_id" for ix in spec.indexes)


async def test_events_fill_the_projection_per_council(directory: Directory) -> None:
    await seed_people(PeopleEvents(directory))
    assert await directory.person(NORTH, "rita") == Person("rita", "resident", True)
    assert await directory.person(SOUTH, "rita") is None
    assert (await directory.person(NORTH, "pat")).is_staff  # type: ignore[union-attr]
    assert await directory.in_circle(NORTH, "rita", "dana")
    assert not await directory.in_circle(SOUTH, "rita", "dana")

    changed = UserRoleChanged(user_id="dana", old_role="family", new_role="carer", changed_by="ada")
    await PeopleEvents(directory).on_role_changed(
        changed, identity_envelope(changed, NORTH, "dana")
    )
    assert await directory.person(NORTH, "dana") == Person("dana", "carer", True)
    removed = CircleMemberRemoved(resident_id="rita", member_id="dana", removed_by="rita")
    await PeopleEvents(directory).on_circle_member_removed(
        removed, identity_envelope(removed, NORTH, "rita")
    )
    assert not await directory.in_circle(NORTH, "rita", "dana")


async def test_deactivation_and_erasure_run_the_services_own_steps(directory: Directory) -> None:
    done: list[tuple[str, str, bool]] = []

    async def deactivated(tenant_id: str, user_id: str) -> None:
        # The directory has already taken them out of every circle.
        done.append(("deactivated", user_id, await directory.in_circle(tenant_id, "rita", user_id)))

    async def erased(tenant_id: str, user_id: str) -> None:
        # The directory still knows them while the service erases its own data.
        done.append(("erased", user_id, await directory.person(tenant_id, user_id) is not None))

    events = PeopleEvents(directory, deactivated=deactivated, erased=erased)
    await seed_people(events)
    gone = UserDeactivated(user_id="dana", deactivated_by="ada")
    await events.on_user_deactivated(gone, identity_envelope(gone, NORTH, "dana"))
    assert await directory.person(NORTH, "dana") == Person("dana", "family", False)
    erase = UserErasureRequested(user_id="rita", requested_by="ada")
    await events.on_erasure_requested(erase, identity_envelope(erase, NORTH, "rita"))
    assert await directory.person(NORTH, "rita") is None
    assert done == [("deactivated", "dana", False), ("erased", "rita", True)]


async def test_people_asks_identity_once_and_only_with_a_token(directory: Directory) -> None:
    identity = FakeIdentity(users={"newbie": Person("newbie", "resident", True)})
    people = People(directory, identity)
    assert await people.person(NORTH, "newbie") is None
    assert identity.calls == []
    assert await people.person(NORTH, "newbie", token="t") == Person("newbie", "resident", True)
    assert await people.person(NORTH, "newbie", token="t") == Person("newbie", "resident", True)
    assert identity.calls == ["user:newbie"]
    assert await people.person(NORTH, "nobody", token="t") is None
    identity.down = True
    with pytest.raises(IdentityUnavailable):
        await people.person(NORTH, "later", token="t")
    assert await People(directory).person(NORTH, "later", token="t") is None


async def test_people_learns_a_circle_from_identity(directory: Directory) -> None:
    identity = FakeIdentity(circles={"ron": [CircleMember("carl", "carer", "carer")]})
    people = People(directory, identity)
    assert not await people.in_circle(NORTH, "ron", "carl")
    assert await people.in_circle(NORTH, "ron", "carl", token="t")
    assert await people.in_circle(NORTH, "ron", "carl", token="t")
    assert identity.calls == ["circle:ron"]
    assert await directory.person(NORTH, "carl") == Person("carl", "carer", True)
    assert not await people.in_circle(NORTH, "ron", "dana", token="t")


def test_an_actor_is_made_from_the_caller() -> None:
    class Caller:
        user_id = "ada"
        tenant_id = NORTH
        roles = frozenset({"council_admin"})

    ada = Actor.of(Caller())
    assert (ada.user_id, ada.tenant_id) == ("ada", NORTH)
    assert ada.is_staff and ada.is_admin and not ada.is_resident
    rita = Actor("rita", NORTH, frozenset({"resident"}))
    assert rita.is_resident and not rita.is_staff
