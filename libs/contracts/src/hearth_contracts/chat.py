"""Events published by the chat service (version 1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hearth_contracts.alerts import Severity
from hearth_contracts.envelope import EventData


class MessagePosted(EventData):
    TYPE = "chat.message.posted"
    conversation_id: str
    message_id: str
    author_id: str


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
    urgency: Literal["normal", "urgent"]


class SupportUnanswered(EventData):
    TYPE = "chat.support.unanswered"
    request_id: str
    resident_id: str
    waited_seconds: float
