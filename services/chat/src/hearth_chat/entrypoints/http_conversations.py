"""HTTP routes of conversations and messages (reached through the gateway).

Thin: authenticate, turn the principal into an actor, call the handler, shape the view.
Who may do what is decided by the domain and the handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response

from hearth_chat.commands import EditMessage, MarkRead, PostMessage, StartConversation
from hearth_chat.domain.access import Actor
from hearth_chat.domain.errors import InvalidInput
from hearth_chat.entrypoints.common import Deps, Member, Token
from hearth_chat.entrypoints.views import conversation_json, message_json
from hearth_chat.handlers import conversations, messages
from hearth_chat.handlers.conversations import ConversationView
from hearth_kit.http import id_path

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$"),
]


@router.post("", status_code=201)
async def start(
    cmd: StartConversation, response: Response, principal: Member, d: Deps, token: Token
) -> dict[str, Any]:
    actor = Actor.of(principal)
    if cmd.kind == "direct":
        if cmd.with_user_id is None:
            raise InvalidInput("say who the conversation is with", field="with_user_id")
        conversation, created = await conversations.start_direct(
            cmd.with_user_id, actor=actor, deps=d, token=token
        )
        if not created:
            response.status_code = 200  # the pair's conversation already exists
    else:
        conversation = await conversations.start_group(
            cmd.members, cmd.title, actor=actor, deps=d, token=token
        )
    return conversation_json(ConversationView(conversation))


@router.get("")
async def list_mine(
    principal: Member, d: Deps, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    views, next_cursor = await conversations.list_conversations(
        actor=Actor.of(principal), deps=d, limit=limit, cursor=cursor
    )
    return {"items": [conversation_json(v) for v in views], "next_cursor": next_cursor}


@router.get("/{conversation_id}")
async def get_one(
    principal: Member, d: Deps, token: Token, conversation_id: str = id_path()
) -> dict[str, Any]:
    view = await conversations.get_conversation(
        conversation_id, actor=Actor.of(principal), deps=d, token=token
    )
    return conversation_json(view)


@router.get("/{conversation_id}/messages")
async def page(
    principal: Member,
    d: Deps,
    token: Token,
    conversation_id: str = id_path(),
    limit: Limit = 50,
    before: Cursor = None,
) -> dict[str, Any]:
    """Newest first; pass `next_cursor` as `before` for the page before."""
    actor = Actor.of(principal)
    _, items, next_cursor = await messages.page_messages(
        conversation_id, actor=actor, deps=d, limit=limit, before=before, token=token
    )
    return {
        "items": [message_json(m, staff=actor.is_staff) for m in items],
        "next_cursor": next_cursor,
    }


@router.post("/{conversation_id}/messages", status_code=201)
async def post(
    cmd: PostMessage,
    response: Response,
    principal: Member,
    d: Deps,
    token: Token,
    conversation_id: str = id_path(),
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    actor = Actor.of(principal)
    message, created = await messages.post_message(
        cmd.text, conversation_id, actor=actor, deps=d, client_ref=idempotency_key, token=token
    )
    if not created:
        response.status_code = 200  # a repeated request: the first message, unchanged
    return message_json(message, staff=actor.is_staff)


@router.patch("/{conversation_id}/messages/{message_id}")
async def edit(
    cmd: EditMessage,
    principal: Member,
    d: Deps,
    token: Token,
    conversation_id: str = id_path(),
    message_id: str = id_path(),
) -> dict[str, Any]:
    actor = Actor.of(principal)
    message = await messages.edit_message(
        cmd.text, conversation_id, message_id, actor=actor, deps=d, token=token
    )
    return message_json(message, staff=actor.is_staff)


@router.delete("/{conversation_id}/messages/{message_id}")
async def delete(
    principal: Member,
    d: Deps,
    token: Token,
    conversation_id: str = id_path(),
    message_id: str = id_path(),
) -> dict[str, Any]:
    actor = Actor.of(principal)
    message = await messages.delete_message(
        conversation_id, message_id, actor=actor, deps=d, token=token
    )
    return message_json(message, staff=actor.is_staff)


@router.post("/{conversation_id}/read")
async def read(
    principal: Member,
    d: Deps,
    token: Token,
    conversation_id: str = id_path(),
    cmd: Annotated[MarkRead | None, Body()] = None,
) -> dict[str, Any]:
    view = await conversations.mark_read(
        conversation_id,
        cmd.seq if cmd else None,
        actor=Actor.of(principal),
        deps=d,
        token=token,
    )
    return conversation_json(view)
