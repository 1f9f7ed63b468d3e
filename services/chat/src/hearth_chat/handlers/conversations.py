"""Starting conversations, listing a person's conversations, read markers."""

from __future__ import annotations

from dataclasses import dataclass

from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import (
    Conversation,
    check_group,
    check_title,
    direct_id,
)
from hearth_chat.domain.errors import Forbidden, InvalidInput
from hearth_chat.handlers.access import direct_basis, known_person, load_conversation
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.store import DuplicateKey


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    read_seq: int = 0

    @property
    def unread(self) -> int:
        return max(0, self.conversation.last_seq - self.read_seq)


async def _store_new(conversation: Conversation, *, deps: ChatDeps) -> bool:
    """Memberships first, then the conversation: a crash in between leaves memberships
    that point nowhere (skipped in listings), never a conversation its members miss."""
    for member in conversation.members:
        await deps.repos.memberships.add(
            conversation.tenant_id, conversation.id, member, conversation.created_at
        )
    try:
        await deps.repos.conversations.insert(conversation)
    except DuplicateKey:
        return False
    return True


async def start_direct(
    with_user_id: str, *, actor: Actor, deps: ChatDeps, token: str | None = None
) -> tuple[Conversation, bool]:
    """The direct conversation between the caller and someone they may reach; the same
    one every time for the same pair. (conversation, created)."""
    circle_of = await direct_basis(actor, with_user_id, deps=deps, token=token)
    conversation_id = direct_id(actor.user_id, with_user_id)
    existing = await deps.repos.conversations.get(actor.tenant_id, conversation_id)
    if existing is not None:
        return existing, False
    conversation = Conversation(
        id=conversation_id,
        tenant_id=actor.tenant_id,
        kind="direct",
        members=(actor.user_id, with_user_id),
        created_by=actor.user_id,
        created_at=deps.now(),
        circle_of=circle_of,
    )
    if await _store_new(conversation, deps=deps):
        return conversation, True
    stored = await deps.repos.conversations.get(actor.tenant_id, conversation_id)
    return (stored or conversation), False


async def start_group(
    members: list[str],
    title: str | None,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
) -> Conversation:
    """A group conversation, created by staff with people of their council."""
    everyone = check_group(actor, members)
    for index, member in enumerate(everyone):
        if member == actor.user_id:
            continue
        person = await known_person(actor, member, deps=deps, token=token)
        if person is None or not person.active:
            raise InvalidInput(
                f"{member} is not an active member of this council",
                field=f"members[{index - 1}]",
                code="unknown_member",
            )
    conversation = Conversation(
        id=deps.new_id(),
        tenant_id=actor.tenant_id,
        kind="group",
        members=everyone,
        created_by=actor.user_id,
        created_at=deps.now(),
        title=check_title(title),
    )
    await _store_new(conversation, deps=deps)
    return conversation


async def list_conversations(
    *, actor: Actor, deps: ChatDeps, limit: int = 50, cursor: str | None = None
) -> tuple[list[ConversationView], str | None]:
    """The caller's conversations, most recently joined first."""
    tenant = actor.tenant_id
    memberships, next_cursor = await deps.repos.memberships.of_user(
        tenant, actor.user_id, limit=limit, cursor=cursor
    )
    views = []
    for membership in memberships:
        conversation = await deps.repos.conversations.get(tenant, membership.conversation_id)
        if conversation is None or not conversation.is_member(actor.user_id):
            continue
        views.append(ConversationView(conversation, membership.read_seq))
    return views, next_cursor


async def get_conversation(
    conversation_id: str, *, actor: Actor, deps: ChatDeps, token: str | None = None
) -> ConversationView:
    conversation = await load_conversation(conversation_id, actor=actor, deps=deps, token=token)
    membership = await deps.repos.memberships.get(actor.tenant_id, conversation_id, actor.user_id)
    return ConversationView(conversation, membership.read_seq if membership else 0)


async def mark_read(
    conversation_id: str,
    seq: int | None,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
) -> ConversationView:
    """Move the caller's read marker to `seq` (by default the latest message)."""
    conversation = await load_conversation(conversation_id, actor=actor, deps=deps, token=token)
    if not conversation.is_member(actor.user_id):
        raise Forbidden("only members keep a read marker here", code="not_a_member")
    last = await deps.repos.messages.last_seq(actor.tenant_id, conversation_id)
    target = last if seq is None else seq
    if target > last:
        raise InvalidInput(f"seq {target} is past the latest message ({last})", field="seq")
    read = await deps.repos.memberships.mark_read(
        actor.tenant_id, conversation_id, actor.user_id, target, deps.now()
    )
    return ConversationView(conversation, read)
