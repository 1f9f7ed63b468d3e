"""Events published by the chat service (version 1).

Chat events carry ids, never message text: consumers that need the text (another chat
replica delivering to its sockets) read it from chat's own store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hearth_contracts.alerts import Severity
from hearth_contracts.envelope import EventData

SupportUrgency = Literal["normal", "urgent"]
SupportOutcome = Literal["resolved", "referred", "withdrawn", "no_response"]


class MessagePosted(EventData):
    TYPE = "chat.message.posted"
    conversation_id: str
    message_id: str
    author_id: str
    # Position of the message in its conversation (1, 2, ...), for in-order delivery.
    seq: int | None = Field(default=None, ge=1)
    kind: Literal["text", "system"] | None = None


class MessageEdited(EventData):
    """A message's text changed (an edit, or its deletion by its author)."""

    TYPE = "chat.message.edited"
    conversation_id: str
    message_id: str
    author_id: str
    seq: int = Field(ge=1)
    deleted: bool = False


class MessageFlagged(EventData):
    """A message matched a safeguarding phrase. Carries ids and the matched phrase only."""

    TYPE = "chat.message.flagged"
    conversation_id: str
    message_id: str
    author_id: str
    category: str
    severity: Severity
    matched_phrase: str = Field(max_length=200)


class SupportRequested(EventData):
    TYPE = "chat.support.requested"
    request_id: str
    resident_id: str
    urgency: SupportUrgency
    conversation_id: str | None = None
    requested_by: str | None = None


class SupportClaimed(EventData):
    TYPE = "chat.support.claimed"
    request_id: str
    resident_id: str
    claimed_by: str
    waited_seconds: float = Field(ge=0)


class SupportClosed(EventData):
    TYPE = "chat.support.closed"
    request_id: str
    resident_id: str
    outcome: SupportOutcome
    closed_by: str


class SupportUnanswered(EventData):
    TYPE = "chat.support.unanswered"
    request_id: str
    resident_id: str
    waited_seconds: float
    urgency: SupportUrgency | None = None


class TypingStarted(EventData):
    """Someone is typing in a conversation: a hint for other replicas' sockets, published
    directly (nothing is stored, and a lost one matters to nobody)."""

    TYPE = "chat.conversation.typing"
    conversation_id: str
    user_id: str
