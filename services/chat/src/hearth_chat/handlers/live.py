"""What the WebSocket asks of chat: following conversations, catching up, typing."""

from __future__ import annotations

import time

from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation
from hearth_chat.domain.message import Message
from hearth_chat.handlers.access import load_conversation
from hearth_chat.handlers.context import ChatDeps

# One typing hint per person per conversation this often, whatever the client sends.
TYPING_EVERY_SECONDS = 3.0


async def follow(
    conversation_id: str,
    after_seq: int | None,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None,
) -> tuple[Conversation, int]:
    """(conversation, the seq delivery starts after): the client's `after_seq` when it
    resumes, else the latest message (only new ones follow)."""
    conversation = await load_conversation(conversation_id, actor=actor, deps=deps, token=token)
    last = await deps.repos.messages.last_seq(actor.tenant_id, conversation_id)
    start = last if after_seq is None else min(after_seq, last)
    return conversation, start


async def still_visible(conversation: Conversation, actor: Actor, *, deps: ChatDeps) -> bool:
    """Whether the caller still sees a conversation they follow (members leave groups,
    staff hand support requests on)."""
    current = await deps.repos.conversations.get(actor.tenant_id, conversation.id)
    return current is not None and current.may_view(actor)


async def catch_up(
    conversation_id: str, after_seq: int, *, actor: Actor, deps: ChatDeps, limit: int
) -> list[Message]:
    return await deps.repos.messages.after(actor.tenant_id, conversation_id, after_seq, limit=limit)


async def changed_message(message_id: str, *, actor: Actor, deps: ChatDeps) -> Message | None:
    loaded = await deps.repos.messages.get(actor.tenant_id, message_id)
    return None if loaded is None else loaded[0]


class TypingThrottle:
    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def allow(self, conversation_id: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(conversation_id, float("-inf")) < TYPING_EVERY_SECONDS:
            return False
        self._last[conversation_id] = now
        return True


async def typing(
    conversation: Conversation, *, actor: Actor, deps: ChatDeps, throttle: TypingThrottle
) -> None:
    if not conversation.is_member(actor.user_id) or not throttle.allow(conversation.id):
        return
    # Through Kafka when there is one (every replica's feed, this one's too), else here.
    await deps.publish_typing(actor.tenant_id, conversation.id, actor.user_id)
