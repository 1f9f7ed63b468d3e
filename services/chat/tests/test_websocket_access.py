"""Access taken away while a token is still valid: the replica feed closes the person's
sockets, and they cannot reconnect (or re-authenticate) with a token issued before the
change; leaving a circle is known to chat before the socket closes, so a reconnect at
once no longer finds the conversation."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from ws_testkit import WS, Chat, answer_to, closed_with, frames_until

from hearth_chat.adapters.feed import AccessFeed
from hearth_contracts import EventData, new_envelope
from hearth_contracts.identity import CircleMemberRemoved, UserDeactivated, UserRoleChanged
from hearth_kit.testing import NORTH, PEOPLE


def token(chat: Chat, user: str, *, issued_at: float, **claims: Any) -> dict[str, str]:
    tenant, roles = PEOPLE[user]
    claims.setdefault("roles", roles)
    signed = chat.signer.token(
        user_id=user, tenant_id=tenant, tenant_slug=tenant, issued_at=issued_at, **claims
    )
    return {"Authorization": f"Bearer {signed}"}


def publish(chat: Chat, data: EventData, subject: str, *, at: float) -> None:
    """Identity's event, as this replica's access feed receives it; returns once the
    feed has applied it."""
    deps = chat.deps
    feed = AccessFeed(deps.hub, deps.repos.directory)
    envelope = new_envelope(
        data,
        tenant_id=NORTH,
        subject=subject,
        producer="identity",
        occurred_at=datetime.fromtimestamp(at, UTC),
    )

    async def hand_on() -> None:
        feed.on_event(envelope)
        await feed.settled()

    chat.run(hand_on)


def refused_with(chat: Chat, headers: dict[str, str]) -> tuple[str, int, str]:
    with chat.client.websocket_connect(WS, headers=headers) as ws:
        error = ws.receive_json()
        assert error["type"] == "error", error
        return (error["code"], *closed_with(ws))


def test_a_deactivated_person_cannot_reconnect_with_their_token(chat: Chat) -> None:
    now = time.time()
    old = token(chat, "dana", issued_at=now - 60)
    with chat.client.websocket_connect(WS, headers=old) as ws:
        frames_until(ws, "ready")
        publish(chat, UserDeactivated(user_id="dana", deactivated_by="ada"), "dana", at=now - 30)
        assert closed_with(ws) == (4403, "your access changed")
    assert refused_with(chat, old) == ("forbidden", 4403, "your access changed")
    # Chat's directory knows she is inactive, whenever her token was issued.
    assert refused_with(chat, token(chat, "dana", issued_at=now)) == (
        "forbidden",
        4403,
        "your access changed",
    )


def test_a_role_change_refuses_only_tokens_issued_before_it(chat: Chat) -> None:
    now = time.time()
    old = token(chat, "rita", issued_at=now - 60)
    with chat.client.websocket_connect(WS, headers=old) as ws:
        frames_until(ws, "ready")
        change = UserRoleChanged(
            user_id="rita", old_role="resident", new_role="carer", changed_by="ada"
        )
        publish(chat, change, "rita", at=now - 30)
        assert closed_with(ws) == (4403, "your access changed")
    assert refused_with(chat, old) == ("forbidden", 4403, "your access changed")
    fresh = token(chat, "rita", issued_at=now - 1, roles=("carer",))
    with chat.client.websocket_connect(WS, headers=fresh) as ws:
        assert frames_until(ws, "ready")[-1]["user_id"] == "rita"


def test_a_person_the_directory_knows_as_inactive_is_refused(chat: Chat) -> None:
    """A change this replica did not hear (it started later, say): the directory, kept by
    the consumer group, still refuses the person."""
    chat.run(lambda: chat.deps.repos.directory.remember_person(NORTH, "carl", active=False))
    assert refused_with(chat, chat.headers("carl")) == ("forbidden", 4403, "your access changed")


def test_a_token_from_before_a_change_does_not_renew_a_socket(chat: Chat) -> None:
    now = time.time()
    with chat.client.websocket_connect(WS, headers=token(chat, "rita", issued_at=now - 5)) as ws:
        frames_until(ws, "ready")
        # Heard of, but this socket not closed (it raced the change): re-checks refuse.
        chat.deps.hub.revocations.record(NORTH, "rita", now - 10)
        older = chat.signer.token(
            user_id="rita", tenant_id=NORTH, tenant_slug=NORTH, issued_at=now - 60
        )
        ws.send_json({"type": "auth", "token": older, "ref": "a"})
        assert closed_with(ws) == (4403, "your access changed")


def test_leaving_a_circle_is_recorded_before_the_socket_closes(chat: Chat) -> None:
    conversation = chat.direct()
    with chat.connect("dana") as ws:
        frames_until(ws, "ready")
        ws.send_json({"type": "subscribe", "conversations": [{"id": conversation}]})
        frames_until(ws, "subscribed")
        removed = CircleMemberRemoved(resident_id="rita", member_id="dana", removed_by="rita")
        publish(chat, removed, "rita", at=time.time())
        assert closed_with(ws) == (4403, "your access changed")
    # Reconnecting at once (her token is still good: she may chat with others) no longer
    # finds the conversation: the consumer group need not have caught up.
    with chat.connect("dana") as ws:
        frames_until(ws, "ready")
        ws.send_json({"type": "subscribe", "conversations": [{"id": conversation}], "ref": "s"})
        answer = answer_to(ws, "s")
        assert (answer["type"], answer.get("code")) == ("error", "conversation_not_found")
