"""The access side of the replica feed, without Kafka: identity's events are applied to
chat's directory before the person's sockets are closed, in the order they came, and a
slow or failing store does not keep sockets open; and what a replica remembers of
changes to people's access."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

from hearth_chat.adapters.feed import AccessFeed
from hearth_chat.adapters.hub import Hub
from hearth_chat.adapters.revocations import Revocations
from hearth_contracts import EventData, new_envelope
from hearth_contracts.identity import (
    CircleMemberRemoved,
    SessionRevoked,
    UserDeactivated,
    UserErasureRequested,
)
from hearth_kit.people.directory import Directory
from hearth_kit.store import StoreError

T = "tenant-north"
# Changes of access are remembered for as long as an access token lasts: recent times.
NOW = time.time()


class Client:
    def __init__(self, user_id: str, session_id: str | None = None) -> None:
        self.tenant_id = T
        self.user_id = user_id
        self.session_id = session_id
        self.closed: tuple[int, str] | None = None

    def posted(self, conversation_id: str, seq: int) -> None: ...

    def changed(self, conversation_id: str, message_id: str, seq: int) -> None: ...

    def typing(self, conversation_id: str, user_id: str) -> None: ...

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class SlowDirectory:
    """Records what the feed asks, each call waiting until `release` is set."""

    def __init__(self, *, fails: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.release = asyncio.Event()
        self.fails = fails

    async def _call(self, *call: Any) -> None:
        await self.release.wait()
        self.calls.append(call)
        if self.fails:
            raise StoreError("the store is down")

    async def remember_person(self, tenant_id: str, user_id: str, **kw: Any) -> None:
        await self._call("person", user_id, kw)

    async def remove_member_everywhere(self, tenant_id: str, member_id: str) -> None:
        await self._call("everywhere", member_id)

    async def remove_from_circle(self, tenant_id: str, resident_id: str, member_id: str) -> None:
        await self._call("circle", resident_id, member_id)


def envelope(data: EventData, at: float = NOW) -> Any:
    return new_envelope(
        data,
        tenant_id=T,
        subject="s",
        producer="identity",
        occurred_at=datetime.fromtimestamp(at, UTC),
    )


def feed_of(hub: Hub, directory: SlowDirectory, **kw: Any) -> AccessFeed:
    return AccessFeed(hub, cast(Directory, directory), **kw)


async def test_sockets_close_only_once_the_directory_knows_in_order() -> None:
    hub, directory = Hub(), SlowDirectory()
    dana, carl = Client("dana"), Client("carl")
    hub.connect(dana)
    hub.connect(carl)
    feed = feed_of(hub, directory)
    feed.on_event(
        envelope(CircleMemberRemoved(resident_id="rita", member_id="dana", removed_by="rita"))
    )
    feed.on_event(envelope(UserDeactivated(user_id="carl", deactivated_by="ada"), at=NOW - 10))
    await asyncio.sleep(0.05)
    assert dana.closed is None and carl.closed is None
    # Carl's older tokens are refused at once, before his sockets close.
    assert hub.revocations.refuses(T, "carl", NOW - 11)
    directory.release.set()
    await feed.settled()
    assert directory.calls == [
        ("circle", "rita", "dana"),
        ("person", "carl", {"active": False}),
        ("everywhere", "carl"),
    ]
    assert dana.closed == (4403, "your access changed")
    assert carl.closed == (4403, "your access changed")
    # Leaving one circle does not refuse the person's tokens: they may chat with others.
    assert not hub.revocations.refuses(T, "dana", 0.0)


async def test_a_failing_or_slow_store_does_not_keep_sockets_open() -> None:
    hub, failing = Hub(), SlowDirectory(fails=True)
    dana = Client("dana")
    hub.connect(dana)
    failing.release.set()
    feed = feed_of(hub, failing)
    feed.on_event(envelope(UserDeactivated(user_id="dana", deactivated_by="ada")))
    await feed.settled()
    assert dana.closed == (4403, "your access changed")

    stuck = SlowDirectory()
    rita = Client("rita")
    hub.connect(rita)
    feed = feed_of(hub, stuck, directory_seconds=0.05)
    feed.on_event(envelope(UserDeactivated(user_id="rita", deactivated_by="ada")))
    await asyncio.wait_for(feed.settled(), 2)
    assert rita.closed == (4403, "your access changed")


async def test_an_erasure_refuses_older_tokens_and_leaves_the_directory_alone() -> None:
    hub, directory = Hub(), SlowDirectory()
    feed = feed_of(hub, directory)
    # A whole second: the event's time survives the envelope's microseconds exactly.
    at = float(int(NOW) - 5)
    feed.on_event(envelope(UserErasureRequested(user_id="sam", requested_by="ada"), at=at))
    await feed.settled()
    assert directory.calls == []
    assert hub.revocations.refuses(T, "sam", at - 1)
    assert not hub.revocations.refuses(T, "sam", at)


def test_revocations_are_kept_for_a_while_and_bounded() -> None:
    now = [10_000.0]
    revocations = Revocations(keep_seconds=100, max_people=3, clock=lambda: now[0])
    revocations.record(T, "a", 9_990.0)
    # A late or repeated event never moves the time back.
    revocations.record(T, "a", 9_950.0)
    assert revocations.since(T, "a") == 9_990.0
    assert revocations.refuses(T, "a", 9_989.0)
    assert not revocations.refuses(T, "a", 9_990.0)
    assert not revocations.refuses("tenant-south", "a", 0.0)
    for user in ("b", "c", "d"):
        revocations.record(T, user, 9_995.0)
    assert len(revocations) == 3
    assert revocations.since(T, "a") is None  # the oldest made room
    now[0] = 10_200.0
    assert not revocations.refuses(T, "b", 0.0)  # every token from before has expired
    revocations.record(T, "e", 10_199.0)
    assert len(revocations) == 1


def test_a_hub_records_the_change_then_closes() -> None:
    hub = Hub(Revocations())
    client = Client("dana")
    hub.connect(client)
    assert hub.revoke_access(T, "dana", NOW - 1) == 1
    assert client.closed == (4403, "your access changed")
    assert hub.revocations.refuses(T, "dana", NOW - 2)
    assert hub.revoke_access(T, "nobody-here", NOW - 1) == 0
    assert hub.revocations.refuses(T, "nobody-here", NOW - 2)


async def test_an_ended_sign_in_closes_its_own_sockets_and_is_refused_at_once() -> None:
    hub = Hub()
    phone, tablet, other = (
        Client("dana", "phone"),
        Client("dana", "tablet"),
        Client("rita", "phone"),
    )
    for client in (phone, tablet, other):
        hub.connect(client)
    ended: list[str] = []
    directory = SlowDirectory()
    feed = feed_of(hub, directory, session_ended=ended.append)
    feed.on_event(envelope(SessionRevoked(user_id="dana", session_id="phone", reason="logout")))
    # The session's tokens are refused before anything else happens.
    assert ended == ["phone"]
    directory.release.set()
    await feed.settled()
    assert phone.closed == (4401, "signed out; sign in again")
    # Another sign-in of the same person, and someone else with the same session name, stay.
    assert tablet.closed is None and other.closed is None
    # A logout is not a change of access: the person's other tokens are still good.
    assert len(hub.revocations) == 0
    assert directory.calls == []


async def test_a_sign_in_ended_by_deactivation_closes_as_a_change_of_access() -> None:
    # Identity ends a deactivated person's sign-ins too; whichever event a replica hears
    # first, the socket closes saying the person's access changed.
    hub = Hub()
    phone = Client("dana", "phone")
    hub.connect(phone)
    directory = SlowDirectory()
    directory.release.set()
    feed = feed_of(hub, directory)
    feed.on_event(
        envelope(SessionRevoked(user_id="dana", session_id="phone", reason="deactivated"))
    )
    await feed.settled()
    assert phone.closed == (4403, "your access changed")
