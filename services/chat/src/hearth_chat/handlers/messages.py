"""Posting, paging, editing and deleting messages. Every text is scanned against the
council's safeguarding phrases before it is stored, and so before anyone receives it; a
match is stored with the message, and announced with it, in one atomic write. Flagged
messages are still delivered: a person in danger must still reach their family."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation
from hearth_chat.domain.errors import NotFoundError
from hearth_chat.domain.message import SYSTEM_AUTHOR, Flag, Message, flag_for
from hearth_chat.domain.phrases import scan
from hearth_chat.domain.text import check_text
from hearth_chat.handlers.access import check_can_post, load_conversation
from hearth_chat.handlers.context import ChatDeps
from hearth_contracts.chat import MessageEdited, MessageFlagged, MessagePosted
from hearth_kit.errors import DomainError
from hearth_kit.store import ConcurrencyConflict, Document, StoreError

log = logging.getLogger("hearth.chat.messages")

PAGE_MAX = 100


def message_not_found() -> NotFoundError:
    return NotFoundError("message not found", code="message_not_found")


async def _flag(tenant_id: str, text: str, *, deps: ChatDeps) -> Flag | None:
    scanner = await deps.scanners.get(tenant_id)
    return flag_for(scan(scanner, text), at=deps.now())


def _flag_event(message: Message, flag: Flag, *, deps: ChatDeps) -> Document:
    return deps.event(
        MessageFlagged(
            conversation_id=message.conversation_id,
            message_id=message.id,
            author_id=message.author_id,
            category=flag.category,
            severity=flag.severity,  # type: ignore[arg-type]
            matched_phrase=flag.phrase[:200],
        ),
        tenant_id=message.tenant_id,
        subject=message.conversation_id,
    )


async def _append(
    conversation: Conversation,
    *,
    author_id: str,
    text: str,
    kind: str,
    flag: Flag | None,
    deps: ChatDeps,
    client_ref: str | None = None,
    message_id: str | None = None,
) -> tuple[Message, bool]:
    tenant = conversation.tenant_id
    new_id = message_id or deps.new_id()
    now = deps.now()

    def build(seq: int) -> tuple[Message, Sequence[Document]]:
        message = Message(
            id=new_id,
            tenant_id=tenant,
            conversation_id=conversation.id,
            seq=seq,
            author_id=author_id,
            kind=kind,  # type: ignore[arg-type]
            text=text,
            sent_at=now,
            flag=flag,
            client_ref=client_ref,
        )
        events = [
            deps.event(
                MessagePosted(
                    conversation_id=conversation.id,
                    message_id=new_id,
                    author_id=author_id,
                    seq=seq,
                    kind=kind,  # type: ignore[arg-type]
                ),
                tenant_id=tenant,
                subject=conversation.id,
            )
        ]
        if flag is not None:
            events.append(_flag_event(message, flag, deps=deps))
        return message, events

    message, created = await deps.repos.messages.append(tenant, conversation.id, build)
    if created:
        deps.metrics.messages.labels(tenant, conversation.kind, kind).inc()
        if flag is not None:
            deps.metrics.flagged.labels(tenant, flag.category, flag.severity).inc()
        # Stored and announced: followers hear of it whatever happens to the summary.
        deps.hub.posted(tenant, conversation.id, message.seq)
        await _update_summary(conversation, message, deps=deps)
    return message, created


async def _update_summary(conversation: Conversation, message: Message, *, deps: ChatDeps) -> None:
    """The conversation's summary (last seq, last activity) is a convenience for listings;
    the messages are the record. A lost race here must not fail a stored message: the
    next message moves the summary on (it only ever moves forwards)."""
    try:
        await deps.repos.conversations.update(
            conversation.tenant_id,
            conversation.id,
            lambda c: c.after_message(message.seq, message.sent_at),
        )
    except (DomainError, StoreError):
        log.warning(
            "could not update the summary of conversation %s to seq %d",
            conversation.id,
            message.seq,
            exc_info=True,
        )


async def post_message(
    text: str,
    conversation_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    client_ref: str | None = None,
    token: str | None = None,
) -> tuple[Message, bool]:
    """Post a message; (message, created), created False for a retried client ref."""
    conversation = await load_conversation(
        conversation_id, actor=actor, deps=deps, token=token, posting=True
    )
    conversation = await check_can_post(conversation, actor=actor, deps=deps, token=token)
    clean = check_text(text, max_chars=deps.limits.max_message_chars)
    flag = await _flag(actor.tenant_id, clean, deps=deps)
    return await _append(
        conversation,
        author_id=actor.user_id,
        text=clean,
        kind="text",
        flag=flag,
        deps=deps,
        client_ref=client_ref,
    )


async def post_system(
    text: str, conversation: Conversation, *, deps: ChatDeps, message_id: str | None = None
) -> Message:
    """A message from Hearth itself (support notices). With `message_id`, posting again
    (a retried timer) stores it once."""
    message, _ = await _append(
        conversation,
        author_id=SYSTEM_AUTHOR,
        text=text,
        kind="system",
        flag=None,
        deps=deps,
        message_id=message_id,
    )
    return message


async def page_messages(
    conversation_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    limit: int = 50,
    before: str | None = None,
    token: str | None = None,
) -> tuple[Conversation, list[Message], str | None]:
    """Newest first; `before` is the cursor of the previous page."""
    conversation = await load_conversation(conversation_id, actor=actor, deps=deps, token=token)
    items, cursor = await deps.repos.messages.before(
        actor.tenant_id, conversation_id, limit=min(limit, PAGE_MAX), cursor=before
    )
    return conversation, items, cursor


async def messages_after(
    conversation: Conversation, after_seq: int, *, deps: ChatDeps, limit: int = PAGE_MAX
) -> list[Message]:
    return await deps.repos.messages.after(
        conversation.tenant_id, conversation.id, after_seq, limit=limit
    )


async def _change(
    conversation_id: str,
    message_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    text: str | None,
    token: str | None,
) -> Message:
    conversation = await load_conversation(
        conversation_id, actor=actor, deps=deps, token=token, posting=True
    )
    conversation.check_post(actor)
    clean = None if text is None else check_text(text, max_chars=deps.limits.max_message_chars)
    flag = None if clean is None else await _flag(actor.tenant_id, clean, deps=deps)
    window = deps.limits.edit_window_seconds
    for _ in range(3):
        loaded = await deps.repos.messages.get(actor.tenant_id, message_id)
        if loaded is None or loaded[0].conversation_id != conversation_id:
            raise message_not_found()
        current, version = loaded
        now = deps.now()
        if clean is None:
            new = current.deleted_by(actor.user_id, now=now, window=window)
        else:
            new = current.edited(actor.user_id, clean, now=now, window=window).with_flag(flag)
        events = [
            deps.event(
                MessageEdited(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    author_id=current.author_id,
                    seq=current.seq,
                    deleted=clean is None,
                ),
                tenant_id=actor.tenant_id,
                subject=conversation_id,
            )
        ]
        newly_flagged = new.flag is not None and new.flag is not current.flag
        if newly_flagged and new.flag is not None:
            events.append(_flag_event(new, new.flag, deps=deps))
        try:
            await deps.repos.messages.save(new, version=version, events=events)
        except ConcurrencyConflict:
            continue
        if newly_flagged and new.flag is not None:
            deps.metrics.flagged.labels(actor.tenant_id, new.flag.category, new.flag.severity).inc()
        deps.hub.changed(actor.tenant_id, conversation_id, message_id, new.seq)
        return new
    raise ConcurrencyConflict("messages", message_id, -1)


async def edit_message(
    text: str,
    conversation_id: str,
    message_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
) -> Message:
    """Replace a message's text (its author, within the edit window). The new text is
    scanned like a new message; the earlier text is kept for safeguarding review."""
    return await _change(
        conversation_id, message_id, actor=actor, deps=deps, text=text, token=token
    )


async def delete_message(
    conversation_id: str,
    message_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
) -> Message:
    """Remove a message's text for everyone (its author, within the edit window); staff
    still see what it said."""
    return await _change(
        conversation_id, message_id, actor=actor, deps=deps, text=None, token=token
    )
