"""Commands chat accepts: the validated bodies of its HTTP requests.

Every model forbids unknown fields and bounds every string and list, so bad input is
refused with a reason before any handler runs. Text rules (control characters, length
in characters) are the domain's, with the field at fault named.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from hearth_chat.domain.message import ReviewOutcome
from hearth_chat.domain.support import Outcome, Urgency

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")]
# Bounded generously in bytes terms: the domain counts characters against its own limit.
Text = Annotated[str, Field(max_length=20_000)]
Note = Annotated[str, Field(max_length=1000)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StartConversation(Command):
    kind: Literal["direct", "group"] = "direct"
    # direct: the other person.
    with_user_id: Id | None = None
    # group: the other members (staff only), and a title.
    members: Annotated[list[Id], Field(max_length=100)] = []
    title: Annotated[str, Field(max_length=120)] | None = None


class PostMessage(Command):
    text: Text


class EditMessage(Command):
    text: Text


class MarkRead(Command):
    # Defaults to the latest message.
    seq: Annotated[StrictInt, Field(ge=0)] | None = None


class RequestSupport(Command):
    urgency: Urgency = "normal"
    # Family and carers: the resident it is about. Residents: leave out (themselves).
    resident_id: Id | None = None
    # The first message, if the person wants to say what is wrong straight away.
    text: Text | None = None


class Handover(Command):
    to_user_id: Id
    note: Note | None = None


class CloseRequest(Command):
    outcome: Outcome


class SupportSettings(Command):
    target_seconds: StrictInt | StrictFloat


class PhraseIn(Command):
    phrase: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=64)]
    severity: Annotated[str, Field(min_length=1, max_length=16)]


class PutPhrases(Command):
    phrases: Annotated[list[PhraseIn], Field(max_length=2000)]
    allow: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=2000)] = []


class ReviewFlag(Command):
    outcome: ReviewOutcome
    note: Note | None = None
