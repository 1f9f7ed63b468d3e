"""The chat WebSocket (Starlette's test client, one replica, no Kafka): token checks,
subscribe and resume without loss, sending, edits, typing, and every refusal with its
error frame or close code."""

from __future__ import annotations

import json
import time

import pytest
from starlette.websockets import WebSocketDisconnect
from ws_testkit import WS, Chat, closed_with, frames_until

from hearth_chat.adapters.hub import Hub
from hearth_kit.testing import NORTH


def test_a_socket_needs_a_valid_token(chat: Chat) -> None:
    with chat.client.websocket_connect(WS) as ws:
        assert ws.receive_json()["code"] == "unauthenticated"
        assert closed_with(ws) == (4401, "missing access token")
    expired = chat.signer.token(user_id="rita", tenant_id=NORTH, ttl=-10)
    with chat.client.websocket_connect(WS, headers={"Authorization": f"Bearer {expired}"}) as ws:
        assert ws.receive_json()["code"] == "unauthenticated"
        assert closed_with(ws) == (4401, "access token refused: expired")
    with chat.connect("root") as ws:
        # A good token whose holder may not chat: forbidden, not unauthenticated.
        error = ws.receive_json()
        assert (error["code"], error["message"]) == ("forbidden", "your role does not use chat")
        assert closed_with(ws) == (4403, "your role does not use chat")
    token = chat.signer.token(user_id="rita", tenant_id=NORTH, roles=("resident",))
    with chat.client.websocket_connect(
        f"{WS}?access_token={token}", subprotocols=["hearth.chat.v1"]
    ) as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["user_id"] == "rita"
        assert ws.accepted_subprotocol == "hearth.chat.v1"


def test_subscribe_send_and_receive_in_order(chat: Chat) -> None:
    conversation = chat.direct()
    with chat.connect("dana") as dana, chat.connect("rita") as rita:
        for ws in (dana, rita):
            frames_until(ws, "ready")
            ws.send_json({"type": "subscribe", "conversations": [{"id": conversation}]})
            assert frames_until(ws, "subscribed")[-1]["conversation_id"] == conversation
        rita.send_json(
            {"type": "send", "conversation_id": conversation, "text": "hi 👋", "ref": "r1"}
        )
        ack = frames_until(rita, "ack")[-1]
        assert ack["ref"] == "r1" and ack["message"]["seq"] == 1
        chat.post(conversation, "second", by="rita")
        got = [f for f in frames_until(dana, "message") + frames_until(dana, "message")]
        messages = [f["message"] for f in got if f["type"] == "message"]
        assert [(m["seq"], m["text"]) for m in messages] == [(1, "hi 👋"), (2, "second")]
        # A retried send (same ref) is stored once.
        rita.send_json(
            {"type": "send", "conversation_id": conversation, "text": "hi 👋", "ref": "r1"}
        )
        assert frames_until(rita, "ack")[-1]["message"]["seq"] == 1


def test_resume_after_a_reconnect_loses_nothing(chat: Chat) -> None:
    conversation = chat.direct()
    chat.post(conversation, "one")
    with chat.connect("dana") as dana:
        frames_until(dana, "ready")
        dana.send_json(
            {"type": "subscribe", "conversations": [{"id": conversation, "after_seq": 0}]}
        )
        first = frames_until(dana, "message")[-1]["message"]
        assert first["seq"] == 1
    # Dana is offline while Rita writes.
    for n in range(2, 5):
        chat.post(conversation, f"message {n}")
    with chat.connect("dana") as dana:
        frames_until(dana, "ready")
        dana.send_json({"type": "resume", "conversations": [{"id": conversation, "after_seq": 1}]})
        seqs = []
        while len(seqs) < 3:
            frame = dana.receive_json()
            if frame["type"] == "message":
                seqs.append(frame["message"]["seq"])
        assert seqs == [2, 3, 4]


def test_edits_and_typing_reach_followers(chat: Chat) -> None:
    conversation = chat.direct()
    with chat.connect("dana") as dana, chat.connect("rita") as rita:
        for ws in (dana, rita):
            frames_until(ws, "ready")
            ws.send_json({"type": "subscribe", "conversations": [{"id": conversation}]})
            frames_until(ws, "subscribed")
        message = chat.post(conversation, "typo")
        frames_until(dana, "message")
        edited = chat.client.patch(
            f"/v1/conversations/{conversation}/messages/{message['id']}",
            json={"text": "fixed"},
            headers=chat.headers("rita"),
        )
        assert edited.status_code == 200
        update = frames_until(dana, "message_updated")[-1]
        assert update["message"]["text"] == "fixed"
        rita.send_json({"type": "typing", "conversation_id": conversation})
        typing = frames_until(dana, "typing")[-1]
        assert typing["user_id"] == "rita"
        dana.send_json({"type": "read", "conversation_id": conversation, "seq": 1, "ref": "rd"})
        assert frames_until(dana, "read")[-1]["seq"] == 1


def test_outsiders_cannot_follow_or_post(chat: Chat) -> None:
    conversation = chat.direct()
    with chat.connect("carl") as carl:
        frames_until(carl, "ready")
        carl.send_json({"type": "subscribe", "conversations": [{"id": conversation}], "ref": "s"})
        error = frames_until(carl, "error")[-1]
        assert error["code"] == "conversation_not_found" and error["ref"] == "s"
        carl.send_json({"type": "send", "conversation_id": conversation, "text": "x", "ref": "p"})
        assert frames_until(carl, "error")[-1]["code"] == "conversation_not_found"
        carl.send_json({"type": "send", "conversation_id": conversation, "text": "\x00"})
        assert frames_until(carl, "error")[-1]["code"] == "conversation_not_found"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "send", "conversation_id": "c", "text": 5}', "bad_frame"),
        ('{"type": "subscribe", "conversations": []}', "bad_frame"),
        ('{"type": "ping", "extra": 1}', "bad_frame"),
        ('{"type": "read", "conversation_id": "c", "seq": -1}', "bad_frame"),
    ],
)
def test_malformed_frames_get_an_error_frame(chat: Chat, raw: str, code: str) -> None:
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        ws.send_text(raw)
        assert frames_until(ws, "error")[-1]["code"] == code
        ws.send_json({"type": "ping", "ref": "still-here"})
        assert frames_until(ws, "pong")[-1]["ref"] == "still-here"


def test_invalid_text_in_a_send_is_refused(chat: Chat) -> None:
    conversation = chat.direct()
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        ws.send_json(
            {"type": "send", "conversation_id": conversation, "text": "bad \x1b", "ref": "x"}
        )
        error = frames_until(ws, "error")[-1]
        assert (error["code"], error["ref"]) == ("invalid_text", "x")


def test_too_many_malformed_frames_close_the_socket(chat: Chat) -> None:
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        for _ in range(10):
            ws.send_text("{")
        assert closed_with(ws) == (1008, "too many malformed frames")


def test_binary_and_oversized_frames_close_the_socket(chat: Chat) -> None:
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        ws.send_bytes(b"\xff\xfe not utf-8")
        code, reason = closed_with(ws)
        assert code == 1003 and "binary" in reason
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        ws.send_text(json.dumps({"type": "ping", "ref": "x" * 10}) + " " * 5000)
        assert closed_with(ws)[0] == 1009


def test_a_flood_is_refused_then_closed(chat: Chat) -> None:
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        for _ in range(60):
            ws.send_json({"type": "ping"})
        frames = []
        while True:
            message = ws.receive()
            if message["type"] == "websocket.close":
                assert message["code"] == 4429
                break
            frames.append(json.loads(message["text"]))
        assert any(f.get("code") == "rate_limited" for f in frames)


def test_the_socket_closes_when_the_token_expires(chat: Chat) -> None:
    with chat.connect("rita", ttl=2) as ws:
        frames_until(ws, "ready")
        started = time.monotonic()
        assert closed_with(ws) == (4401, "token expired")
        assert time.monotonic() - started < 5


def test_a_new_token_keeps_the_socket_open(chat: Chat) -> None:
    with chat.connect("rita", ttl=2) as ws:
        frames_until(ws, "ready")
        fresh = chat.signer.token(user_id="rita", tenant_id=NORTH, tenant_slug=NORTH, ttl=600)
        ws.send_json({"type": "auth", "token": fresh, "ref": "a"})
        assert frames_until(ws, "auth_ok")[-1]["ref"] == "a"
        time.sleep(2.5)
        ws.send_json({"type": "ping", "ref": "alive"})
        assert frames_until(ws, "pong")[-1]["ref"] == "alive"
        other = chat.signer.token(user_id="ron", tenant_id=NORTH, tenant_slug=NORTH)
        ws.send_json({"type": "auth", "token": other})
        assert closed_with(ws)[0] == 4401


def test_revoked_access_closes_the_socket(chat: Chat) -> None:
    hub: Hub = chat.client.app.state.hub  # type: ignore[attr-defined]
    with chat.connect("dana") as ws:
        frames_until(ws, "ready")
        assert chat.client.portal is not None
        closed = chat.client.portal.call(
            lambda: hub.revoke(NORTH, "dana", code=4403, reason="your access changed")
        )
        assert closed == 1
        assert closed_with(ws) == (4403, "your access changed")


def test_sockets_are_counted(chat: Chat) -> None:
    with chat.connect("rita") as ws:
        frames_until(ws, "ready")
        metrics = chat.client.get("/metrics").text
        assert "hearth_chat_sockets_connected 1.0" in metrics
    with pytest.raises(WebSocketDisconnect):
        with chat.client.websocket_connect("/v1/chat/nowhere") as ws:
            ws.receive_json()
