"""Deciding, per request, whether the caller may see or post in a conversation and whom
they may start a direct conversation with (rules in `domain.access`).

Circles and people come from identity's events; when those have not arrived yet, chat
asks identity with the caller's own token (the kit's `hearth_kit.people`).
"""

from __future__ import annotations

from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation, not_found
from hearth_chat.domain.errors import Forbidden, InvalidInput, NotFoundError, Unavailable
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.people import Person
from hearth_kit.people.identity import IdentityUnavailable


def person_not_found() -> NotFoundError:
    return NotFoundError("person not found", code="person_not_found")


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable("cannot check with identity right now; retry shortly")


async def in_circle(
    tenant_id: str, resident_id: str, member_id: str, *, deps: ChatDeps, token: str | None
) -> bool:
    try:
        return await deps.people.in_circle(tenant_id, resident_id, member_id, token=token)
    except IdentityUnavailable as exc:
        raise _unavailable(exc) from exc


async def known_person(
    actor: Actor, user_id: str, *, deps: ChatDeps, token: str | None
) -> Person | None:
    """Someone of the caller's council; staff callers may ask identity about people chat
    has not heard of yet."""
    try:
        return await deps.people.person(
            actor.tenant_id, user_id, token=token if actor.is_staff else None
        )
    except IdentityUnavailable as exc:
        raise _unavailable(exc) from exc


async def direct_basis(
    actor: Actor, other_id: str, *, deps: ChatDeps, token: str | None
) -> str | None:
    """Whether the caller may talk directly with `other_id`: returns the resident whose
    circle allows it, or None when staff are involved. NotFoundError otherwise (nobody
    learns who exists outside what they may reach)."""
    tenant = actor.tenant_id
    if other_id == actor.user_id:
        raise InvalidInput("a conversation needs someone else", field="with_user_id")
    if actor.is_staff:
        person = await known_person(actor, other_id, deps=deps, token=token)
        if person is None or not person.active:
            raise person_not_found()
        return None
    if actor.is_resident:
        if await in_circle(tenant, actor.user_id, other_id, deps=deps, token=token):
            return actor.user_id
        other = await deps.repos.directory.person(tenant, other_id)
        if other is not None and other.active and other.is_staff:
            return None
        raise person_not_found()
    if await in_circle(tenant, other_id, actor.user_id, deps=deps, token=token):
        return other_id
    raise person_not_found()


async def load_conversation(
    conversation_id: str,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
    posting: bool = False,
) -> Conversation:
    """The conversation, if the caller may see it (404 otherwise)."""
    conversation = await deps.repos.conversations.get(actor.tenant_id, conversation_id)
    if conversation is None:
        raise not_found()
    conversation.check_view(actor)
    await _check_circle(conversation, actor, deps=deps, token=token, posting=posting)
    return conversation


async def _check_circle(
    conversation: Conversation,
    actor: Actor,
    *,
    deps: ChatDeps,
    token: str | None,
    posting: bool,
) -> None:
    """A direct conversation a circle allowed lasts as long as the membership: the member
    who left no longer finds it; the resident keeps the history but cannot post."""
    resident = conversation.circle_of
    if resident is None:
        return
    member = next((m for m in conversation.members if m != resident), None)
    if member is None:
        return
    tenant = actor.tenant_id
    if await in_circle(tenant, resident, member, deps=deps, token=token):
        return
    if actor.user_id == member:
        raise not_found()
    if not posting:
        return
    raise Forbidden("this person is no longer in your circle of support", code="left_circle")


async def check_can_post(
    conversation: Conversation, *, actor: Actor, deps: ChatDeps, token: str | None = None
) -> Conversation:
    """The conversation the caller may post in. A member of staff who holds a support
    request but is not yet in its conversation (a crash right after the claim) is added."""
    if (
        conversation.kind == "support"
        and actor.is_staff
        and not conversation.is_member(actor.user_id)
        and conversation.support_request_id is not None
    ):
        loaded = await deps.repos.support.get(actor.tenant_id, conversation.support_request_id)
        if loaded is not None and loaded[0].assignee == actor.user_id:
            conversation = await add_member(conversation, actor.user_id, deps=deps)
    conversation.check_post(actor)
    return conversation


async def add_member(conversation: Conversation, user_id: str, *, deps: ChatDeps) -> Conversation:
    tenant = conversation.tenant_id
    await deps.repos.memberships.add(tenant, conversation.id, user_id, deps.now())
    updated = await deps.repos.conversations.update(
        tenant, conversation.id, lambda c: c.with_member(user_id)
    )
    return updated or conversation.with_member(user_id)


async def remove_member(
    conversation: Conversation, user_id: str, *, deps: ChatDeps
) -> Conversation:
    tenant = conversation.tenant_id
    updated = await deps.repos.conversations.update(
        tenant, conversation.id, lambda c: c.without_member(user_id)
    )
    await deps.repos.memberships.remove(tenant, conversation.id, user_id)
    return updated or conversation.without_member(user_id)
