"""Messages: text with its place in the conversation, edits and deletions by their author
within a short window (the earlier text kept for safeguarding review), and the
safeguarding flag a message may carry.

The flag lives inside the message it is about, so a message and its flag (and the events
announcing both) are stored in one atomic write, with no multi-document transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from hearth_chat.domain.errors import Conflict, Forbidden, InvalidInput

MessageKind = Literal["text", "system"]
FlagStatus = Literal["open", "confirmed", "false_positive"]
ReviewOutcome = Literal["confirmed", "false_positive"]
FLAG_STATUSES: tuple[FlagStatus, ...] = ("open", "confirmed", "false_positive")
SYSTEM_AUTHOR = "system"


@dataclass(frozen=True)
class Revision:
    """A text the message held before an edit or its deletion."""

    text: str
    replaced_at: float


@dataclass(frozen=True)
class Match:
    phrase: str
    category: str
    severity: str


@dataclass(frozen=True)
class Flag:
    """A safeguarding concern about one message: the most severe match, every match, and
    what staff decided."""

    category: str
    severity: str
    phrase: str
    flagged_at: float
    matches: tuple[Match, ...] = ()
    status: FlagStatus = "open"
    reviewed_by: str | None = None
    reviewed_at: float | None = None
    note: str | None = None

    def reviewed(self, outcome: ReviewOutcome, *, by: str, at: float, note: str | None) -> Flag:
        if self.status != "open":
            raise Conflict(f"this flag was already reviewed ({self.status})", code="reviewed")
        return replace(self, status=outcome, reviewed_by=by, reviewed_at=at, note=note)


def flag_for(matches: list[Match], *, at: float) -> Flag | None:
    """The flag of a message whose text matched `matches` (most severe first), if any."""
    if not matches:
        return None
    top = matches[0]
    return Flag(
        category=top.category,
        severity=top.severity,
        phrase=top.phrase,
        flagged_at=at,
        matches=tuple(matches),
    )


@dataclass(frozen=True)
class Message:
    id: str
    tenant_id: str
    conversation_id: str
    seq: int
    author_id: str
    kind: MessageKind
    text: str | None
    sent_at: float
    edited_at: float | None = None
    deleted_at: float | None = None
    history: tuple[Revision, ...] = ()
    flag: Flag | None = None
    # The sender's own id for the message, so a send retried after a reconnect is stored once.
    client_ref: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def _check_change(self, author_id: str, now: float, window: float) -> None:
        if self.kind != "text":
            raise Forbidden("system messages cannot be changed", code="system_message")
        if author_id != self.author_id:
            raise Forbidden("only its author may change a message", code="not_author")
        if self.deleted:
            raise Conflict("this message was deleted", code="message_deleted")
        if now - self.sent_at > window:
            minutes = max(1, round(window / 60))
            raise Conflict(
                f"messages can be changed for {minutes} minutes after they are sent",
                code="edit_window_closed",
            )

    def edited(self, author_id: str, text: str, *, now: float, window: float) -> Message:
        self._check_change(author_id, now, window)
        if text == self.text:
            raise InvalidInput("the text is unchanged", field="text", code="unchanged")
        assert self.text is not None
        return replace(
            self,
            text=text,
            edited_at=now,
            history=(*self.history, Revision(self.text, now)),
        )

    def deleted_by(self, author_id: str, *, now: float, window: float) -> Message:
        self._check_change(author_id, now, window)
        assert self.text is not None
        return replace(
            self, text=None, deleted_at=now, history=(*self.history, Revision(self.text, now))
        )

    def with_flag(self, flag: Flag | None) -> Message:
        """Flag a message (or an edit that matched); an open flag is never replaced."""
        if flag is None or (self.flag is not None and self.flag.status == "open"):
            return self
        return replace(self, flag=flag)

    def erased(self) -> Message:
        """What is left after the author's erasure: ids and times, no text."""
        return replace(self, text=None, history=(), client_ref=None, flag=_erased(self.flag))


def _erased(flag: Flag | None) -> Flag | None:
    # The phrase is a list entry, not the person's words; the decision stays on record.
    return None if flag is None else replace(flag, note=None)
