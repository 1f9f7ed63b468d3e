"""Bad input to chat through the gateway, from people who may use it.

Over the WebSocket, a frame chat cannot take gets an error frame naming what is wrong (the
socket stays open) or, for what a well-behaved client never sends, a close code that
says why - the same code chat chose, passed on unchanged by the gateway. Over HTTP, each
bad request gets a clear 4xx in Hearth's one error shape, naming the field at fault where
there is one, and changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from support.chat import ChatSocket, history, post_message, request_support, start_direct
from support.councils import Council, Person, join_circle, new_council
from support.surface import error_of, fields_of
from websockets.exceptions import ConnectionClosed

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack

CHAT_FRAME_LIMIT = 16 * 1024  # chat's largest client frame (bytes)
GATEWAY_FRAME_LIMIT = 1024 * 1024  # the gateway's own limit on any WebSocket frame
MAX_CHARS = 4000  # chat's longest message (characters)


@dataclass
class Setting:
    council: Council
    resident: Person
    daughter: Person
    conversation: str
    message: str  # the resident's message in it
    request: str  # the resident's open support request


@pytest.fixture(scope="module")
def setting(http: httpx.Client, demo: SeedResult) -> Setting:
    council = new_council(http, demo, "chatinput")
    resident = council.add("resident")
    daughter = join_circle(council, resident)
    conversation = start_direct(http, resident, daughter)
    message = post_message(http, resident, conversation, "Lunch on Sunday?")["id"]
    # A target nobody reaches during the module: the request stays as it is.
    target = http.put(
        "/v1/support/settings", json={"target_seconds": 3600}, headers=council.admin.auth
    )
    assert target.status_code == 200, target.text
    request = request_support(http, resident)["id"]
    return Setting(council, resident, daughter, conversation, message, request)


@pytest.fixture
def socket(stack: Stack, setting: Setting) -> Iterator[ChatSocket]:
    with ChatSocket.ready(stack.gateway_url, setting.resident) as opened:
        yield opened


# ---- the WebSocket: refused with an error frame, the socket stays open ----------------------
FRAME_ERRORS = [
    ("not json", "not json", "bad_json"),
    ("not an object", "[1, 2]", "bad_frame"),
    ("unknown type", '{"type": "dance"}', "unknown_type"),
    ("unknown field", '{"type": "ping", "volume": 11}', "bad_frame"),
    ("bad ref", '{"type": "ping", "ref": "has spaces"}', "bad_frame"),
    ("bad conversation id", '{"type": "subscribe", "conversations": [{"id": "a/b"}]}', "bad_frame"),
    ("nothing to subscribe", '{"type": "subscribe", "conversations": []}', "bad_frame"),
    ("negative seq", '{"type": "read", "conversation_id": "c1", "seq": -1}', "bad_frame"),
    ("text not a string", '{"type": "send", "conversation_id": "c1", "text": 5}', "bad_frame"),
    ("empty token", '{"type": "auth", "token": ""}', "bad_frame"),
]


@pytest.mark.parametrize(
    ("raw", "code"), [(r, c) for _, r, c in FRAME_ERRORS], ids=[n for n, _, _ in FRAME_ERRORS]
)
def test_a_malformed_frame_gets_an_error_frame(socket: ChatSocket, raw: str, code: str) -> None:
    socket.send_raw(raw)
    error = socket.next("error")
    assert error["code"] == code, error
    assert error["message"].strip()
    socket.ping()  # still open


@pytest.mark.parametrize(
    ("text", "code"),
    [("a\x07b", "invalid_text"), ("  \n ", "empty_text"), ("x" * (MAX_CHARS + 1), "text_too_long")],
    ids=["control character", "blank", "too long"],
)
def test_a_bad_message_text_is_refused_by_ref_and_not_stored(
    http: httpx.Client, setting: Setting, socket: ChatSocket, text: str, code: str
) -> None:
    before = history(http, setting.resident, setting.conversation)
    socket.send({"type": "send", "conversation_id": setting.conversation, "text": text, "ref": "t"})
    error = socket.next("error", ref="t")
    assert error["code"] == code, error
    socket.ping()
    assert history(http, setting.resident, setting.conversation) == before


# ---- the WebSocket: closed with the code that says why -----------------------------------------
def test_a_frame_over_chats_limit_closes_with_1009(socket: ChatSocket) -> None:
    socket.send_raw(json.dumps({"type": "ping"}) + " " * CHAT_FRAME_LIMIT)
    assert socket.closed() == (1009, f"frames are at most {CHAT_FRAME_LIMIT} bytes")


def test_a_frame_over_the_gateways_limit_closes_with_1009(socket: ChatSocket) -> None:
    socket.send_raw(json.dumps({"type": "ping"}) + " " * GATEWAY_FRAME_LIMIT)
    code, reason = socket.closed()
    assert code == 1009
    assert str(GATEWAY_FRAME_LIMIT) in reason, reason


def test_text_that_is_not_utf8_closes_with_1007(socket: ChatSocket) -> None:
    socket.send_raw(b'{"type": "ping", "ref": "\xff\xfe"}', text=True)
    assert socket.closed()[0] == 1007


def test_a_binary_frame_closes_with_1003(socket: ChatSocket) -> None:
    socket.send_raw(json.dumps({"type": "ping"}).encode())
    assert socket.closed() == (1003, "binary frames are not accepted; send JSON text")


def test_too_many_malformed_frames_close_with_1008(socket: ChatSocket) -> None:
    for _ in range(10):
        socket.send_raw("{")
    assert socket.closed() == (1008, "too many malformed frames")
    assert [f["code"] for f in socket.seen if f["type"] == "error"] == ["bad_json"] * 10


def test_a_flood_of_sends_is_slowed_then_closed_with_4429(
    http: httpx.Client, setting: Setting, socket: ChatSocket
) -> None:
    # A conversation of its own, so the flood leaves the others as they were.
    carer = join_circle(setting.council, setting.resident, "carer")
    conversation = start_direct(http, carer, setting.resident)
    with contextlib.suppress(ConnectionClosed):  # closed before the last ones went out
        for n in range(100):
            socket.send({"type": "send", "conversation_id": conversation, "text": f"flood {n}"})
    assert socket.closed() == (4429, "too many frames; slow down and reconnect")
    limited = [f for f in socket.seen if f.get("code") == "rate_limited"]
    assert limited, socket.seen
    assert all(f["retry_after"] > 0 for f in limited)
    # Every send that was let through is stored, and only those.
    acks = [f for f in socket.seen if f["type"] == "ack"]
    assert 0 < len(acks) < 100
    stored = history(http, setting.resident, conversation)
    assert [m["id"] for m in stored] == [a["message"]["id"] for a in acks]


# ---- HTTP ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    id: str
    method: str
    path: str  # {conversation}, {message}, {request} are filled in
    body: Any = None  # JSON, or bytes sent as they are (with a JSON content type)
    status: int = 422
    code: str = "validation_error"
    field: str | None = None  # the field the error names (None: no single field)
    who: str = "resident"  # or "admin"
    params: tuple[tuple[str, Any], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


C = "/v1/conversations/{conversation}"
M = f"{C}/messages"
R = "/v1/support/requests/{request}"
LONG = "x" * (MAX_CHARS + 1)
HTTP_CASES = [
    # ---- messages ----------------------------------------------------------------------
    Bad("text-too-long", "POST", M, {"text": LONG}, code="text_too_long", field="text"),
    Bad("text-past-any-bound", "POST", M, {"text": "x" * 20_001}, field="text"),
    Bad("text-empty", "POST", M, {"text": ""}, code="empty_text", field="text"),
    Bad("text-blank", "POST", M, {"text": " \n\t "}, code="empty_text", field="text"),
    Bad("text-control-char", "POST", M, {"text": "a\x1bb"}, code="invalid_text", field="text"),
    Bad("text-lone-surrogate", "POST", M, b'{"text": "a\\ud800b"}', field="text"),
    Bad("text-not-a-string", "POST", M, {"text": 5}, field="text"),
    Bad("text-missing", "POST", M, {}, field="text"),
    Bad("message-unknown-field", "POST", M, {"text": "hi", "pin": True}, field="pin"),
    Bad("message-malformed-json", "POST", M, b'{"text": ', status=400, code="malformed_json"),
    Bad("message-over-a-mebibyte", "POST", M, b'{"text": "' + b"x" * (1 << 20) + b'"}',
        status=413, code="payload_too_large"),
    Bad("bad-idempotency-key", "POST", M, {"text": "hi"}, field="Idempotency-Key",
        headers=(("Idempotency-Key", "has spaces"),)),
    Bad("edit-to-empty", "PATCH", f"{M}/{{message}}", {"text": ""}, code="empty_text",
        field="text"),
    Bad("edit-unknown-message", "PATCH", f"{M}/no-such-message", {"text": "x"}, status=404,
        code="message_not_found"),
    Bad("edit-bad-message-id", "PATCH", f"{M}/bad$id", {"text": "x"}, field="message_id"),
    Bad("page-bad-cursor", "GET", M, status=400, code="bad_cursor", params=(("before", "zz"),)),
    Bad("page-cursor-too-long", "GET", M, field="before", params=(("before", "x" * 513),)),
    Bad("page-limit-zero", "GET", M, field="limit", params=(("limit", 0),)),
    Bad("page-limit-too-big", "GET", M, field="limit", params=(("limit", 101),)),
    # ---- conversations -----------------------------------------------------------------
    Bad("list-bad-cursor", "GET", "/v1/conversations", status=400, code="bad_cursor",
        params=(("cursor", "zz"),)),
    Bad("bad-conversation-id", "GET", "/v1/conversations/bad$id", field="conversation_id"),
    Bad("conversation-id-too-long", "GET", "/v1/conversations/" + "a" * 65,
        field="conversation_id"),
    Bad("unknown-conversation", "GET", "/v1/conversations/dm-nobody", status=404,
        code="conversation_not_found"),
    Bad("start-with-nobody", "POST", "/v1/conversations", {}, code="invalid_input",
        field="with_user_id"),
    Bad("start-bad-person-id", "POST", "/v1/conversations", {"with_user_id": "a b"},
        field="with_user_id"),
    Bad("start-unknown-kind", "POST", "/v1/conversations", {"kind": "party"}, field="kind"),
    Bad("read-past-the-end", "POST", f"{C}/read", {"seq": 10_000}, code="invalid_input",
        field="seq"),
    Bad("read-negative", "POST", f"{C}/read", {"seq": -1}, field="seq"),
    Bad("read-seq-as-text", "POST", f"{C}/read", {"seq": "1"}, field="seq"),
    # ---- live support ------------------------------------------------------------------
    Bad("support-unknown-urgency", "POST", "/v1/support/requests", {"urgency": "now"},
        field="urgency"),
    Bad("support-bad-request-id", "GET", "/v1/support/requests/bad$id", field="request_id"),
    Bad("support-unknown-request", "GET", "/v1/support/requests/nope", status=404,
        code="request_not_found"),
    Bad("close-unknown-outcome", "POST", f"{R}/close", {"outcome": "fixed"}, field="outcome"),
    Bad("resident-closes-as-resolved", "POST", f"{R}/close", {"outcome": "resolved"},
        code="invalid_input", field="outcome"),
    Bad("handover-to-a-resident", "POST", f"{R}/handover", {"to_user_id": "{resident}"},
        code="not_staff", field="to_user_id", who="admin"),
    Bad("target-too-short", "PUT", "/v1/support/settings", {"target_seconds": 4},
        code="invalid_input", field="target_seconds", who="admin"),
    Bad("target-too-long", "PUT", "/v1/support/settings", {"target_seconds": 86_401},
        code="invalid_input", field="target_seconds", who="admin"),
    Bad("target-as-text", "PUT", "/v1/support/settings", {"target_seconds": "60"},
        field="target_seconds.int", who="admin"),
    Bad("queue-unknown-status", "GET", "/v1/support/queue", field="status", who="admin",
        params=(("status", "lost"),)),
    Bad("queue-bad-cursor", "GET", "/v1/support/queue", status=400, code="bad_cursor",
        who="admin", params=(("cursor", "zz"),)),
    # ---- safeguarding ------------------------------------------------------------------
    Bad("flags-unknown-status", "GET", "/v1/safeguarding/flags", field="status", who="admin",
        params=(("status", "maybe"),)),
    Bad("flags-bad-cursor", "GET", "/v1/safeguarding/flags", status=400, code="bad_cursor",
        who="admin", params=(("cursor", "zz"),)),
    Bad("review-unknown-outcome", "POST", "/v1/safeguarding/flags/{message}/review",
        {"outcome": "meh"}, field="outcome", who="admin"),
    Bad("review-note-too-long", "POST", "/v1/safeguarding/flags/{message}/review",
        {"outcome": "confirmed", "note": "x" * 1001}, field="note", who="admin"),
    Bad("review-unflagged-message", "POST", "/v1/safeguarding/flags/{message}/review",
        {"outcome": "confirmed"}, status=404, code="flag_not_found", who="admin"),
    Bad("phrase-unknown-category", "PUT", "/v1/safeguarding/phrases",
        {"phrases": [{"phrase": "left alone", "category": "weather", "severity": "low"}]},
        code="invalid_phrase", field="phrases[0]", who="admin"),
    Bad("phrase-without-letters", "PUT", "/v1/safeguarding/phrases",
        {"phrases": [{"phrase": " !! ", "category": "loneliness", "severity": "low"}]},
        code="invalid_phrase", field="phrases[0]", who="admin"),
]  # fmt: skip


def _state(http: httpx.Client, setting: Setting) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    admin = setting.council.admin.auth
    answers = {
        "history": http.get(f"/v1/conversations/{setting.conversation}/messages",
                            headers=setting.resident.auth),
        "conversation": http.get(f"/v1/conversations/{setting.conversation}",
                                 headers=setting.resident.auth),
        "request": http.get(f"/v1/support/requests/{setting.request}", headers=admin),
        "target": http.get("/v1/support/settings", headers=admin),
        "phrases": http.get("/v1/safeguarding/phrases", headers=admin),
    }  # fmt: skip
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
    state = {name: response.json() for name, response in answers.items()}
    state["request"].pop("waiting_seconds")  # the clock moves; nothing else may
    return state


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.id)
def test_bad_http_input_gets_a_clear_4xx_and_changes_nothing(
    http: httpx.Client, setting: Setting, case: Bad
) -> None:
    ids = {
        "conversation": setting.conversation,
        "message": setting.message,
        "request": setting.request,
        "resident": setting.resident.id,
    }
    path = case.path.format(**ids)
    caller = setting.council.admin if case.who == "admin" else setting.resident
    headers = {**caller.auth, **dict(case.headers)}
    content: bytes | None = None
    if isinstance(case.body, bytes):
        content = case.body
    elif case.body is not None:
        # Bodies name people by placeholder, filled in like the path.
        content = json.dumps(case.body).replace("{resident}", setting.resident.id).encode()
    if content is not None:
        headers["Content-Type"] = "application/json"
    before = _state(http, setting)
    response = http.request(
        case.method, path, content=content, params=dict(case.params), headers=headers
    )
    assert response.status_code == case.status, (case.id, response.text)
    error = error_of(response)
    assert error["code"] == case.code, (case.id, error)
    if case.field is not None:
        assert case.field in fields_of(error), (case.id, error)
    assert _state(http, setting) == before
