"""Aggregates as store documents and back (JSON-shaped dicts, epoch seconds for times)."""

from __future__ import annotations

from typing import Any

from hearth_chat.domain.conversation import Conversation
from hearth_chat.domain.message import Flag, Match, Message, Revision
from hearth_chat.domain.phrases import CouncilPhrases
from hearth_chat.domain.safeguarding import PhraseEntry
from hearth_chat.domain.support import Handover, SupportRequest

Doc = dict[str, Any]
# The support request's due field: when the unanswered timer fires (None when idle).
DUE_FIELD = "due_at"


def conversation_doc(c: Conversation) -> Doc:
    return {
        "id": c.id,
        "tenant_id": c.tenant_id,
        "kind": c.kind,
        "members": list(c.members),
        "created_by": c.created_by,
        "created_at": c.created_at,
        "title": c.title,
        "circle_of": c.circle_of,
        "support_request_id": c.support_request_id,
        "closed_at": c.closed_at,
        "last_seq": c.last_seq,
        "last_message_at": c.last_message_at,
    }


def conversation_from(doc: Doc) -> Conversation:
    return Conversation(
        id=doc["id"],
        tenant_id=doc["tenant_id"],
        kind=doc["kind"],
        members=tuple(doc.get("members", ())),
        created_by=doc["created_by"],
        created_at=float(doc["created_at"]),
        title=doc.get("title"),
        circle_of=doc.get("circle_of"),
        support_request_id=doc.get("support_request_id"),
        closed_at=doc.get("closed_at"),
        last_seq=int(doc.get("last_seq", 0)),
        last_message_at=doc.get("last_message_at"),
    )


def _flag_doc(flag: Flag) -> Doc:
    return {
        "category": flag.category,
        "severity": flag.severity,
        "phrase": flag.phrase,
        "flagged_at": flag.flagged_at,
        "matches": [
            {"phrase": m.phrase, "category": m.category, "severity": m.severity}
            for m in flag.matches
        ],
        "status": flag.status,
        "reviewed_by": flag.reviewed_by,
        "reviewed_at": flag.reviewed_at,
        "note": flag.note,
    }


def _flag_from(doc: Doc) -> Flag:
    return Flag(
        category=doc["category"],
        severity=doc["severity"],
        phrase=doc["phrase"],
        flagged_at=float(doc["flagged_at"]),
        matches=tuple(Match(m["phrase"], m["category"], m["severity"]) for m in doc["matches"]),
        status=doc["status"],
        reviewed_by=doc.get("reviewed_by"),
        reviewed_at=doc.get("reviewed_at"),
        note=doc.get("note"),
    )


def message_doc(m: Message) -> Doc:
    doc: Doc = {
        "id": m.id,
        "tenant_id": m.tenant_id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "author_id": m.author_id,
        "kind": m.kind,
        "text": m.text,
        "sent_at": m.sent_at,
        "edited_at": m.edited_at,
        "deleted_at": m.deleted_at,
        "history": [{"text": r.text, "replaced_at": r.replaced_at} for r in m.history],
    }
    # Indexed fields are left out rather than null when absent (unique keys and the
    # flag queue only see messages that have them).
    if m.client_ref is not None:
        doc["client_ref"] = m.client_ref
    if m.flag is not None:
        doc["flag"] = _flag_doc(m.flag)
        doc["flag_status"] = m.flag.status
        doc["flagged_at"] = m.flag.flagged_at
    return doc


def message_from(doc: Doc) -> Message:
    flag = doc.get("flag")
    return Message(
        id=doc["id"],
        tenant_id=doc["tenant_id"],
        conversation_id=doc["conversation_id"],
        seq=int(doc["seq"]),
        author_id=doc["author_id"],
        kind=doc["kind"],
        text=doc.get("text"),
        sent_at=float(doc["sent_at"]),
        edited_at=doc.get("edited_at"),
        deleted_at=doc.get("deleted_at"),
        history=tuple(Revision(r["text"], float(r["replaced_at"])) for r in doc.get("history", ())),
        flag=_flag_from(flag) if flag else None,
        client_ref=doc.get("client_ref"),
    )


def request_doc(r: SupportRequest) -> Doc:
    return {
        "id": r.id,
        "tenant_id": r.tenant_id,
        "resident_id": r.resident_id,
        "requested_by": r.requested_by,
        "urgency": r.urgency,
        "conversation_id": r.conversation_id,
        "requested_at": r.requested_at,
        "target_seconds": r.target_seconds,
        "status": r.status,
        "queue_key": r.queue_key,
        "assignee": r.assignee,
        "claimed_at": r.claimed_at,
        "closed_at": r.closed_at,
        "closed_by": r.closed_by,
        "outcome": r.outcome,
        "handovers": [
            {"from": h.from_user, "to": h.to_user, "by": h.by, "at": h.at, "note": h.note}
            for h in r.handovers
        ],
        "escalated_at": r.escalated_at,
        "notice_posted": r.notice_posted,
        DUE_FIELD: r.due_at,
    }


def request_from(doc: Doc) -> SupportRequest:
    return SupportRequest(
        id=doc["id"],
        tenant_id=doc["tenant_id"],
        resident_id=doc["resident_id"],
        requested_by=doc["requested_by"],
        urgency=doc["urgency"],
        conversation_id=doc["conversation_id"],
        requested_at=float(doc["requested_at"]),
        target_seconds=float(doc["target_seconds"]),
        status=doc["status"],
        assignee=doc.get("assignee"),
        claimed_at=doc.get("claimed_at"),
        closed_at=doc.get("closed_at"),
        closed_by=doc.get("closed_by"),
        outcome=doc.get("outcome"),
        handovers=tuple(
            Handover(h["from"], h["to"], h["by"], float(h["at"]), h.get("note"))
            for h in doc.get("handovers", ())
        ),
        escalated_at=doc.get("escalated_at"),
        notice_posted=bool(doc.get("notice_posted", False)),
        due_at=doc.get(DUE_FIELD),
    )


def phrases_doc(tenant_id: str, c: CouncilPhrases) -> Doc:
    return {
        "id": "phrases",
        "tenant_id": tenant_id,
        "phrases": [
            {"phrase": e.phrase, "category": e.category, "severity": e.severity} for e in c.phrases
        ],
        "allow": list(c.allow),
        "updated_by": c.updated_by,
        "updated_at": c.updated_at,
        "revision": c.revision,
    }


def phrases_from(doc: Doc) -> CouncilPhrases:
    return CouncilPhrases(
        phrases=tuple(
            PhraseEntry(p["phrase"], p["category"], p["severity"]) for p in doc.get("phrases", ())
        ),
        allow=tuple(doc.get("allow", ())),
        updated_by=doc.get("updated_by"),
        updated_at=doc.get("updated_at"),
        revision=int(doc.get("revision", 0)),
    )
