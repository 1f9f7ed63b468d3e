"""The pure rules: message text, frames, the token bucket, edits, support requests,
conversation access."""

from __future__ import annotations

import pytest

from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation, check_group, direct_id
from hearth_chat.domain.errors import Conflict, Forbidden, InvalidInput, NotFoundError
from hearth_chat.domain.frames import FrameError, Ping, Send, Subscribe, parse_frame
from hearth_chat.domain.message import Match, Message, flag_for
from hearth_chat.domain.ratelimit import TokenBucket
from hearth_chat.domain.support import SupportRequest
from hearth_chat.domain.text import check_text

T = "tenant-a"
RITA = Actor("rita", T, frozenset({"resident"}))
DANA = Actor("dana", T, frozenset({"family"}))
PAT = Actor("pat", T, frozenset({"professional"}))
ADA = Actor("ada", T, frozenset({"council_admin"}))
SUE = Actor("sue", "tenant-b", frozenset({"professional"}))


def test_text_keeps_every_script_and_refuses_controls() -> None:
    assert check_text("e\u0301") == "é"  # stored NFC
    assert check_text("🧑🏿‍🦽 ok\n") == "🧑🏿‍🦽 ok\n"
    assert check_text("\U000e0001 new tag") == "\U000e0001 new tag"
    for bad in ("\x00", "a\x7f", "\u0085", "\ud83d", "\ufdd0", "\U0001fffe"):
        with pytest.raises(InvalidInput):
            check_text(f"x{bad}")
    with pytest.raises(InvalidInput, match="limit is 5"):
        check_text("123456", max_chars=5)
    assert check_text("ü" * 5, max_chars=5)


def test_frames_parse_or_say_why() -> None:
    assert parse_frame('{"type": "ping"}') == Ping()
    frame = parse_frame(
        '{"type": "resume", "conversations": [{"id": "c1", "after_seq": 3}, {"id": "c2"}]}'
    )
    assert frame == Subscribe((("c1", 3), ("c2", None)))
    assert parse_frame('{"type":"send","conversation_id":"c","text":"hi","ref":"r"}') == Send(
        "c", "hi", "r"
    )
    for raw, code in (
        ("{", "bad_json"),
        ('"x"', "bad_frame"),
        ('{"type": "send", "conversation_id": "../x", "text": "t"}', "bad_frame"),
        ('{"type": "subscribe", "conversations": [{"id": "c", "after_seq": true}]}', "bad_frame"),
        ('{"type": "ping", "ref": "' + "r" * 65 + '"}', "bad_frame"),
        ('{"type": 3}', "unknown_type"),
    ):
        with pytest.raises(FrameError) as caught:
            parse_frame(raw)
        assert caught.value.code == code


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0


def test_messages_change_only_by_their_author_within_the_window() -> None:
    message = Message("m1", T, "c1", 1, "rita", "text", "hello", sent_at=100.0)
    edited = message.edited("rita", "hello!", now=200.0, window=900)
    assert edited.text == "hello!" and edited.history[0].text == "hello"
    with pytest.raises(Forbidden):
        message.edited("dana", "x", now=200.0, window=900)
    with pytest.raises(Conflict):
        message.edited("rita", "x", now=1001.0, window=900)
    deleted = edited.deleted_by("rita", now=300.0, window=900)
    assert deleted.text is None and [r.text for r in deleted.history] == ["hello", "hello!"]
    with pytest.raises(Conflict):
        deleted.edited("rita", "again", now=301.0, window=900)
    flag = flag_for([Match("p", "abuse", "high")], at=1.0)
    assert (
        message.with_flag(flag).with_flag(flag_for([Match("q", "x", "low")], at=2.0)).flag == flag
    )
    assert message.with_flag(flag).erased().text is None


def test_support_requests_move_through_their_states() -> None:
    request = SupportRequest.open(
        id="r1",
        tenant_id=T,
        resident_id="rita",
        requested_by="rita",
        urgency="normal",
        conversation_id="sup-r1",
        now=1000.0,
        target_seconds=60,
    )
    assert request.due_at == 1060.0
    with pytest.raises(Forbidden):
        request.claim(RITA, now=1001)
    claimed = request.claim(PAT, now=1030)
    assert claimed.due_at is None and claimed.waited(5000) == 30
    with pytest.raises(Conflict):
        claimed.claim(ADA, now=1031)
    with pytest.raises(Forbidden):
        claimed.handover(Actor("olly", T, frozenset({"oncall"})), "ada", now=1, note=None)
    handed = claimed.handover(ADA, "olly", now=1040, note="visit")
    assert handed.assignee == "olly"
    with pytest.raises(InvalidInput):
        handed.close(ADA, "withdrawn", now=1050)
    closed = handed.close(ADA, "resolved", now=1050)
    with pytest.raises(Conflict):
        closed.claim(PAT, now=1060)
    urgent = SupportRequest.open(
        id="r2",
        tenant_id=T,
        resident_id="ron",
        requested_by="ron",
        urgency="urgent",
        conversation_id="sup-r2",
        now=2000.0,
        target_seconds=60,
    )
    assert urgent.queue_key < request.queue_key
    escalated = request.escalated(now=1060)
    assert escalated.needs_notice and not escalated.needs_escalation
    assert escalated.noticed().due_at is None


def test_conversation_access() -> None:
    conversation = Conversation(
        direct_id("rita", "dana"), T, "direct", ("rita", "dana"), "rita", 1.0
    )
    assert direct_id("dana", "rita") == conversation.id
    conversation.check_post(DANA)
    for outsider in (PAT, SUE):
        with pytest.raises(NotFoundError):
            conversation.check_view(outsider)
    support = Conversation("sup-1", T, "support", ("rita",), "rita", 1.0, support_request_id="r")
    support.check_view(PAT)
    with pytest.raises(Forbidden):
        support.check_post(PAT)
    with pytest.raises(NotFoundError):
        support.check_view(SUE)
    with pytest.raises(Forbidden):
        check_group(DANA, ["rita"])
    assert check_group(PAT, ["rita", "rita", "pat"]) == ("pat", "rita")
