"""JSON views of chat's aggregates. Edit history and safeguarding flags are for staff."""

from __future__ import annotations

from typing import Any

from hearth_chat.domain.message import Flag, Message
from hearth_chat.domain.phrases import CouncilPhrases
from hearth_chat.domain.support import SupportRequest
from hearth_chat.handlers.conversations import ConversationView
from hearth_kit.http import iso


def conversation_json(view: ConversationView) -> dict[str, Any]:
    c = view.conversation
    return {
        "id": c.id,
        "kind": c.kind,
        "title": c.title,
        "members": list(c.members),
        "created_by": c.created_by,
        "created_at": iso(c.created_at),
        "closed_at": iso(c.closed_at),
        "support_request_id": c.support_request_id,
        "last_seq": c.last_seq,
        "last_message_at": iso(c.last_message_at),
        "read_seq": view.read_seq,
        "unread": view.unread,
    }


def flag_json(flag: Flag) -> dict[str, Any]:
    return {
        "category": flag.category,
        "severity": flag.severity,
        "matched_phrase": flag.phrase,
        "matches": [
            {"phrase": m.phrase, "category": m.category, "severity": m.severity}
            for m in flag.matches
        ],
        "status": flag.status,
        "flagged_at": iso(flag.flagged_at),
        "reviewed_by": flag.reviewed_by,
        "reviewed_at": iso(flag.reviewed_at),
        "note": flag.note,
    }


def message_json(message: Message, *, staff: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "author_id": message.author_id,
        "kind": message.kind,
        "text": message.text,
        "sent_at": iso(message.sent_at),
        "edited_at": iso(message.edited_at),
        "deleted": message.deleted,
        "deleted_at": iso(message.deleted_at),
        "ref": message.client_ref,
    }
    if staff:
        body["history"] = [
            {"text": r.text, "replaced_at": iso(r.replaced_at)} for r in message.history
        ]
        body["flag"] = flag_json(message.flag) if message.flag else None
    return body


def flagged_json(message: Message) -> dict[str, Any]:
    """A flag as staff review it: the flag, and the message it is about."""
    assert message.flag is not None
    return {
        "id": message.id,
        **flag_json(message.flag),
        "message": message_json(message, staff=True),
    }


def request_json(r: SupportRequest, *, now: float) -> dict[str, Any]:
    return {
        "id": r.id,
        "resident_id": r.resident_id,
        "requested_by": r.requested_by,
        "urgency": r.urgency,
        "status": r.status,
        "conversation_id": r.conversation_id,
        "requested_at": iso(r.requested_at),
        "waiting_seconds": round(r.waited(now), 3) if r.status != "closed" else None,
        "target_seconds": r.target_seconds,
        "assignee": r.assignee,
        "claimed_at": iso(r.claimed_at),
        "escalated_at": iso(r.escalated_at),
        "closed_at": iso(r.closed_at),
        "closed_by": r.closed_by,
        "outcome": r.outcome,
        "handovers": [
            {"from": h.from_user, "to": h.to_user, "by": h.by, "at": iso(h.at), "note": h.note}
            for h in r.handovers
        ],
    }


def phrases_json(phrases: CouncilPhrases, *, baseline_count: int) -> dict[str, Any]:
    return {
        "phrases": [
            {"phrase": e.phrase, "category": e.category, "severity": e.severity}
            for e in phrases.phrases
        ],
        "allow": list(phrases.allow),
        "baseline_count": baseline_count,
        "revision": phrases.revision,
        "updated_by": phrases.updated_by,
        "updated_at": iso(phrases.updated_at),
    }
