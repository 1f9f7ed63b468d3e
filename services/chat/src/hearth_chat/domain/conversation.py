"""Conversations: who is in them, what kind they are, whether they still take messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from hearth_chat.domain.access import Actor
from hearth_chat.domain.errors import Conflict, Forbidden, InvalidInput, NotFoundError

Kind = Literal["direct", "group", "support"]
KINDS: tuple[Kind, ...] = ("direct", "group", "support")
MAX_GROUP_MEMBERS = 100
MAX_TITLE = 120


def not_found() -> NotFoundError:
    return NotFoundError("conversation not found", code="conversation_not_found")


def direct_id(a: str, b: str) -> str:
    """One direct conversation per pair of people: its id is derived from the pair."""
    low, high = sorted((a, b))
    return "dm-" + hashlib.sha256(f"{low}\x00{high}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Conversation:
    id: str
    tenant_id: str
    kind: Kind
    members: tuple[str, ...]
    created_by: str
    created_at: float
    title: str | None = None
    # A direct conversation a circle of support allowed: the resident whose circle it is.
    circle_of: str | None = None
    support_request_id: str | None = None
    closed_at: float | None = None
    last_seq: int = 0
    last_message_at: float | None = None

    def is_member(self, user_id: str) -> bool:
        return user_id in self.members

    def may_view(self, actor: Actor) -> bool:
        if actor.tenant_id != self.tenant_id:
            return False
        return self.is_member(actor.user_id) or (self.kind == "support" and actor.is_staff)

    def check_view(self, actor: Actor) -> None:
        if not self.may_view(actor):
            raise not_found()

    def check_post(self, actor: Actor) -> None:
        self.check_view(actor)
        if not self.is_member(actor.user_id):
            raise Forbidden(
                "claim the support request before answering in its conversation",
                code="not_a_member",
            )
        if self.closed_at is not None:
            raise Conflict("this conversation is closed", code="conversation_closed")

    def with_member(self, user_id: str) -> Conversation:
        if user_id in self.members:
            return self
        return replace(self, members=(*self.members, user_id))

    def without_member(self, user_id: str) -> Conversation:
        return replace(self, members=tuple(m for m in self.members if m != user_id))

    def closed(self, now: float) -> Conversation:
        return self if self.closed_at is not None else replace(self, closed_at=now)

    def after_message(self, seq: int, at: float) -> Conversation:
        if seq <= self.last_seq:
            return self
        return replace(self, last_seq=seq, last_message_at=at)


def check_title(title: str | None) -> str | None:
    if title is None:
        return None
    stripped = title.strip()
    if not stripped or len(stripped) > MAX_TITLE:
        raise InvalidInput(f"title must be 1 to {MAX_TITLE} characters", field="title")
    return stripped


def check_group(actor: Actor, members: list[str]) -> tuple[str, ...]:
    """The members of a new group: staff create groups; the creator is always in it."""
    if not actor.is_staff:
        raise Forbidden("only council staff create group conversations", code="staff_only")
    unique = tuple(dict.fromkeys([actor.user_id, *members]))
    if len(unique) < 2:
        raise InvalidInput("a group needs at least one other member", field="members")
    if len(unique) > MAX_GROUP_MEMBERS:
        raise InvalidInput(f"a group holds at most {MAX_GROUP_MEMBERS} members", field="members")
    return unique
