"""Chat in real time, end to end through the gateway, with real processes and sockets.

Two gateway pods sit behind a (pretend) load balancer, each routed to its own chat pod:
the stack's gateway to chat replica 0, a second gateway to a second chat replica. A
resident and a member of their circle of support (the people chat lets talk directly)
connect through different gateways, so every message crosses from one chat process to
the other through the broker.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support.chat import (
    ChatSocket,
    Pods,
    history,
    post_message,
    sockets_on,
    start_direct,
    two_pods,
)
from support.councils import Council, Person, join_circle, new_council
from support.surface import wait_for

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack


@pytest.fixture(scope="module")
def pods(stack: Stack) -> Iterator[Pods]:
    with two_pods(stack) as started:
        yield started


@pytest.fixture
def family(http: httpx.Client, demo: SeedResult) -> tuple[Council, Person, Person, str]:
    """A council, a resident, their daughter (in the circle) and their conversation."""
    council = new_council(http, demo, "chatflow")
    resident = council.add("resident", name="Rose Resident")
    daughter = join_circle(council, resident, "family")
    return council, resident, daughter, start_direct(http, daughter, resident)


def test_the_second_gateway_talks_to_the_second_chat_pod(stack: Stack, pods: Pods) -> None:
    env = stack.env_for("gateway", pods.gateway_replica)
    assert env["GATEWAY_CHAT_URL"] == stack.url("chat", pods.chat_replica)
    assert stack.env_for("gateway")["GATEWAY_CHAT_URL"] == stack.url("chat")
    # Every other upstream is the stack's own.
    assert env["GATEWAY_IDENTITY_URL"] == stack.url("identity")


def test_two_people_chat_in_real_time_across_two_chat_replicas(
    stack: Stack, http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    _, resident, daughter, conversation = family
    with (
        ChatSocket.ready(pods.first, resident) as rose,
        ChatSocket.ready(pods.second, daughter) as dana,
    ):
        assert rose.subprotocol == dana.subprotocol == "hearth.chat.v1"
        # The daughter's socket really is held by the second chat process.
        wait_for(
            lambda: sockets_on(stack, pods.chat_replica) == 1,
            within=30,
            what="the second chat replica to hold the daughter's socket",
        )
        for socket in (rose, dana):
            subscribed = socket.subscribe(conversation)
            assert (subscribed["after_seq"], subscribed["last_seq"]) == (0, 0)

        said = [f"Morning love {n}, the kettle is on" for n in range(1, 6)]
        acks = [rose.say(conversation, text, ref=f"rose-{n}") for n, text in enumerate(said, 1)]
        # Each send is acknowledged to the sender with its place in the conversation.
        assert [(a["seq"], a["text"], a["ref"]) for a in acks] == [
            (n, text, f"rose-{n}") for n, text in enumerate(said, 1)
        ]
        arrived = dana.messages(conversation, 5)
        assert [(m["seq"], m["text"], m["author_id"]) for m in arrived] == [
            (n, text, resident.id) for n, text in enumerate(said, 1)
        ]
        assert [m["id"] for m in arrived] == [a["id"] for a in acks]

        # And back the other way, through the other pod.
        replies = ["Morning Mum", "I will pop round at two"]
        for text in replies:
            dana.say(conversation, text)
        back = rose.messages(conversation, 7)
        assert [m["seq"] for m in dana.messages(conversation, 2)] == [6, 7]
        assert [(m["seq"], m["text"]) for m in back[5:]] == [(6, replies[0]), (7, replies[1])]
        # The sender sees their own messages in the stream too, in the same order.
        assert [m["seq"] for m in back] == [1, 2, 3, 4, 5, 6, 7]

        # Typing hints and read markers cross the replicas as well.
        dana.send({"type": "typing", "conversation_id": conversation})
        assert rose.next("typing")["user_id"] == daughter.id
        dana.send({"type": "read", "conversation_id": conversation, "seq": 7, "ref": "rd"})
        assert dana.next_answer("rd", "read")["seq"] == 7

        # Nobody got anything twice.
        dana.ping()
        assert dana.unread("message") == []
        assert [f["message"]["seq"] for f in dana.seen if f["type"] == "message"] == list(
            range(1, 8)
        )

    # What was said over the sockets is the conversation's record.
    stored = history(http, daughter, conversation)
    assert [(m["seq"], m["text"]) for m in stored] == [
        *((n, text) for n, text in enumerate(said, 1)),
        (6, replies[0]),
        (7, replies[1]),
    ]
    mine = http.get(f"/v1/conversations/{conversation}", headers=daughter.auth).json()
    assert (mine["last_seq"], mine["read_seq"], mine["unread"]) == (7, 7, 0)


def test_a_message_posted_over_http_on_one_pod_reaches_a_socket_on_the_other(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    _, resident, daughter, conversation = family
    with ChatSocket.ready(pods.second, daughter) as dana:
        dana.subscribe(conversation)
        posted = post_message(http, resident, conversation, "Posted from the app's outbox")
        [arrived] = dana.messages(conversation, 1)
        assert (arrived["id"], arrived["seq"]) == (posted["id"], 1)


def test_a_receiver_who_reconnects_gets_exactly_what_they_missed(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    _, resident, daughter, conversation = family
    with ChatSocket.ready(pods.first, resident) as rose:
        rose.subscribe(conversation)
        with ChatSocket.ready(pods.second, daughter) as dana:
            dana.subscribe(conversation)
            for text in ("Before the tunnel 1", "Before the tunnel 2"):
                rose.say(conversation, text)
            seen = dana.messages(conversation, 2)
            last_seen = seen[-1]["seq"]
            assert last_seen == 2
        # The daughter is offline (a train through a tunnel) while her mother writes.
        missed = [f"While you were away {n}" for n in range(1, 4)]
        for text in missed:
            rose.say(conversation, text)

        with ChatSocket.ready(pods.second, daughter) as dana:
            resumed = dana.subscribe(conversation, after_seq=last_seen)
            assert (resumed["after_seq"], resumed["last_seq"]) == (2, 5)
            caught_up = dana.messages(conversation, 3)
            assert [(m["seq"], m["text"]) for m in caught_up] == [
                (3, missed[0]),
                (4, missed[1]),
                (5, missed[2]),
            ]
            # Live messages follow the catch-up, and nothing comes twice.
            rose.say(conversation, "Welcome back")
            [live] = dana.messages(conversation, 1)
            assert (live["seq"], live["text"]) == (6, "Welcome back")
            dana.ping()
            assert dana.unread("message") == []
            delivered = [f["message"]["seq"] for f in dana.seen if f["type"] == "message"]
            assert delivered == [3, 4, 5, 6]

    # A resume from the very start (a new phone) gets the whole conversation, in order.
    with ChatSocket.ready(pods.first, daughter) as phone:
        phone.subscribe(conversation, after_seq=0)
        everything = phone.messages(conversation, 6)
        assert [m["seq"] for m in everything] == [1, 2, 3, 4, 5, 6]
        phone.ping()
        assert phone.unread("message") == []


def test_a_retried_send_is_stored_once(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    # A phone that lost the ack resends with the same ref after reconnecting, maybe to
    # the other pod: the conversation holds the message once.
    _, resident, daughter, conversation = family
    with ChatSocket.ready(pods.first, resident) as rose:
        first = rose.say(conversation, "Did you get this?", ref="ask-1")
    with ChatSocket.ready(pods.second, resident) as rose:
        again = rose.say(conversation, "Did you get this?", ref="ask-1")
    assert (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert [m["text"] for m in history(http, daughter, conversation)] == ["Did you get this?"]
