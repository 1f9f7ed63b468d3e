"""Many people posting in one conversation at once: every message is stored with its own
gap-free seq, and a lost race on the conversation's summary never fails a stored post."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import pytest
from chat_testkit import Api

from hearth_chat.adapters.message_repository import Messages
from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation
from hearth_chat.domain.message import Message
from hearth_chat.handlers.messages import post_message
from hearth_kit.errors import concurrent_change
from hearth_kit.store import Document
from hearth_kit.testing import NORTH

RITA = Actor(user_id="rita", tenant_id=NORTH, roles=frozenset({"resident"}))


async def test_two_hundred_concurrent_posts_get_seqs_one_to_two_hundred(api: Api) -> None:
    conversation = await api.direct()
    posts = [
        post_message(f"message {n}", conversation, actor=RITA, deps=api.deps, client_ref=f"r{n}")
        for n in range(200)
    ]
    results = await asyncio.gather(*posts, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    seqs = sorted(r[0].seq for r in results if not isinstance(r, BaseException))
    assert seqs == list(range(1, 201))
    assert await api.deps.repos.messages.last_seq(NORTH, conversation) == 200
    summary = await api.deps.repos.conversations.get(NORTH, conversation)
    assert summary is not None and summary.last_seq == 200


async def test_two_replicas_appending_to_one_conversation_converge(api: Api) -> None:
    """Two processes (two repositories on one store) race for the same seqs: the loser
    backs off and takes the next free one."""
    conversation = await api.direct()
    collection = api.deps.repos.messages.collection
    first, second = Messages(collection), Messages(collection)

    async def post(messages: Messages, n: int) -> int:
        def build(seq: int) -> tuple[Message, Sequence[Document]]:
            return _message(conversation, f"{id(messages)}-{n}", seq), ()

        message, created = await messages.append(NORTH, conversation, build)
        assert created
        return message.seq

    seqs = await asyncio.gather(
        *(post(first, n) for n in range(40)), *(post(second, n) for n in range(40))
    )
    assert sorted(seqs) == list(range(1, 81))


async def test_locks_of_idle_conversations_are_not_kept(api: Api) -> None:
    conversation = await api.direct()
    await api.post(conversation, "hello")
    await asyncio.sleep(0)
    assert len(api.deps.repos.messages._locks) == 0


async def test_a_lost_summary_update_does_not_fail_a_stored_post(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = await api.direct()
    notified: list[tuple[str, str, int]] = []
    hub = api.deps.hub
    real_posted = hub.posted

    def posted(tenant_id: str, conversation_id: str, seq: int) -> None:
        notified.append((tenant_id, conversation_id, seq))
        real_posted(tenant_id, conversation_id, seq)

    async def update(
        tenant_id: str, conversation_id: str, change: Callable[[Conversation], Conversation]
    ) -> Conversation | None:
        raise concurrent_change("the conversation")

    monkeypatch.setattr(hub, "posted", posted)
    monkeypatch.setattr(api.deps.repos.conversations, "update", update)
    with caplog.at_level(logging.WARNING, logger="hearth.chat"):
        response = await api.post(conversation, "still delivered")
    assert response.status_code == 201, response.text
    assert response.json()["seq"] == 1
    assert notified == [(NORTH, conversation, 1)]
    assert any("summary" in record.getMessage() for record in caplog.records)
    # The message is stored, and announced, however stale the summary is.
    stored = await api.deps.repos.messages.after(NORTH, conversation, 0, limit=10)
    assert [m.text for m in stored] == ["still delivered"]
    assert any(e["type"] == "chat.message.posted" for e in await api.message_events())


def test_the_summary_never_moves_backwards() -> None:
    conversation = Conversation(
        id="c", tenant_id=NORTH, kind="direct", members=("a", "b"), created_by="a", created_at=0
    )
    later = conversation.after_message(5, 50.0)
    assert later.after_message(3, 30.0) is later
    assert later.after_message(5, 60.0) is later
    assert (later.last_seq, later.last_message_at) == (5, 50.0)


def _message(conversation_id: str, message_id: str, seq: int) -> Message:
    return Message(
        id=message_id,
        tenant_id=NORTH,
        conversation_id=conversation_id,
        seq=seq,
        author_id="rita",
        kind="text",
        text="hi",
        sent_at=0.0,
    )
