"""Tenancy of the chat WebSocket, through the gateway: a socket only ever carries the
conversations its person is in.

Following a conversation you are not in - another council's, or your own council's that
is someone else's - is refused exactly as a made-up conversation is, and whatever is said
there never reaches your socket; staff follow their own council's support conversations
and no other council's. (The HTTP routes are in test_chat_tenancy.py.)
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from support.chat import ChatSocket, request_support, start_direct
from support.councils import Person, join_circle, new_council

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack

# Frames that carry a conversation's content or activity to a socket.
DELIVERIES = ("subscribed", "message", "message_updated", "typing", "read")
OUTSIDERS = ("other_resident", "professional", "b_resident", "b_family", "b_professional")


@dataclass
class World:
    people: dict[str, Person]
    conversation: str  # council A: the resident and her daughter
    support: str  # council A: the resident's support conversation
    b_conversation: str  # council B: its resident and her son


@pytest.fixture(scope="module")
def world(http: httpx.Client, demo: SeedResult) -> World:
    a, b = new_council(http, demo, "ws-ashdale"), new_council(http, demo, "ws-brookvale")
    resident, b_resident = a.add("resident"), b.add("resident")
    people = {
        "resident": resident,
        "daughter": join_circle(a, resident, "family"),
        "other_resident": a.add("resident"),
        "professional": a.add("professional"),
        "b_resident": b_resident,
        "b_family": join_circle(b, b_resident, "family"),
        "b_professional": b.add("professional"),
    }
    conversation = start_direct(http, people["daughter"], resident)
    target = http.put("/v1/support/settings", json={"target_seconds": 3600}, headers=a.admin.auth)
    assert target.status_code == 200, target.text
    support = request_support(http, resident)["conversation_id"]
    b_conversation = start_direct(http, people["b_family"], b_resident)
    return World(people, conversation, support, b_conversation)


def _refusals(socket: ChatSocket, conversation: str) -> dict[str, dict[str, Any]]:
    """What each way of reaching into `conversation` answers, without refs."""
    frames: dict[str, dict[str, Any]] = {
        "subscribe": {"type": "subscribe", "conversations": [{"id": conversation}]},
        "resume": {"type": "resume", "conversations": [{"id": conversation, "after_seq": 0}]},
        "send": {"type": "send", "conversation_id": conversation, "text": "Let me in"},
        "read": {"type": "read", "conversation_id": conversation, "seq": 1},
        "typing": {"type": "typing", "conversation_id": conversation},
    }
    answers = {}
    for name, frame in frames.items():
        ref = f"{name}-{uuid.uuid4().hex[:8]}"
        socket.send({**frame, "ref": ref})
        error = socket.next("error", ref=ref)
        answers[name] = {k: v for k, v in error.items() if k not in ("ref", "conversation_id")}
    return answers


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_following_a_conversation_you_are_not_in_is_refused_like_a_made_up_one(
    stack: Stack, world: World, outsider: str
) -> None:
    with ChatSocket.ready(stack.gateway_url, world.people[outsider]) as socket:
        real = _refusals(socket, world.conversation)
        made_up = _refusals(socket, "dm-" + uuid.uuid4().hex)
        assert real == made_up
        assert real["subscribe"]["code"] == "conversation_not_found"
        assert real["resume"]["code"] == "conversation_not_found"
        assert real["send"]["code"] == "conversation_not_found"
        assert real["read"]["code"] == "conversation_not_found"
        assert real["typing"]["code"] == "not_subscribed"
        socket.ping()
        assert socket.unread("message") == [] and socket.unread("subscribed") == []


def test_staff_follow_their_own_councils_support_conversations_only(
    stack: Stack, world: World
) -> None:
    with ChatSocket.ready(stack.gateway_url, world.people["professional"]) as ours:
        subscribed = ours.subscribe(world.support)
        assert subscribed["conversation_id"] == world.support
    with ChatSocket.ready(stack.gateway_url, world.people["b_professional"]) as theirs:
        theirs.send({"type": "subscribe", "conversations": [{"id": world.support}], "ref": "s"})
        assert theirs.next("error", ref="s")["code"] == "conversation_not_found"


def test_a_councils_messages_never_reach_anyone_elses_socket(
    stack: Stack, http: httpx.Client, world: World
) -> None:
    people, conversation = world.people, world.conversation
    with ExitStack() as sockets:
        rose = sockets.enter_context(ChatSocket.ready(stack.gateway_url, people["resident"]))
        dana = sockets.enter_context(ChatSocket.ready(stack.gateway_url, people["daughter"]))
        outsiders = {
            name: sockets.enter_context(ChatSocket.ready(stack.gateway_url, people[name]))
            for name in OUTSIDERS
        }
        rose.subscribe(conversation)
        dana.subscribe(conversation)
        # Council B's people follow their own conversation, and every outsider tries A's.
        for name in ("b_resident", "b_family"):
            outsiders[name].subscribe(world.b_conversation)
        for socket in outsiders.values():
            socket.send({"type": "subscribe", "conversations": [{"id": conversation}], "ref": "x"})
            assert socket.next("error", ref="x")["code"] == "conversation_not_found"

        # Council A talks: messages, an edit, typing.
        for n in range(3):
            rose.say(conversation, f"Private note {n}")
        typo = rose.say(conversation, "Private note with a tpyo")
        assert [m["seq"] for m in dana.messages(conversation, 4)] == [1, 2, 3, 4]
        fixed = http.patch(
            f"/v1/conversations/{conversation}/messages/{typo['id']}",
            json={"text": "Private note with a typo"},
            headers=people["resident"].auth,
        )
        assert fixed.status_code == 200, fixed.text
        assert dana.next("message_updated")["message"]["id"] == typo["id"]
        dana.send({"type": "typing", "conversation_id": conversation})
        assert rose.next("typing")["user_id"] == people["daughter"].id
        # Council B talks too, so B's sockets are shown to receive what is theirs.
        outsiders["b_family"].say(world.b_conversation, "Hello from Brookvale")
        [theirs] = outsiders["b_resident"].messages(world.b_conversation, 1)
        assert theirs["text"] == "Hello from Brookvale"

        for name, socket in outsiders.items():
            socket.ping()  # everything queued for them before now has arrived
            delivered = [f for f in socket.seen if f["type"] in DELIVERIES]
            assert conversation not in {f["conversation_id"] for f in delivered}, (name, delivered)
            texts = [str(f.get("message", {}).get("text")) for f in delivered]
            assert not any(t.startswith("Private note") for t in texts), (name, texts)
