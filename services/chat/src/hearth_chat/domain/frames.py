"""The chat WebSocket protocol: JSON text frames, each an object with a `type`.

Client to server:
  {"type": "subscribe", "conversations": [{"id": "c1", "after_seq": 41}, {"id": "c2"}]}
      Start receiving a conversation's messages. With `after_seq` (also sent as
      `"type": "resume"` after a reconnect) every message after that sequence number is
      sent first, in order, then live ones: nothing is lost across a reconnect.
  {"type": "unsubscribe", "conversation_id": "c1"}
  {"type": "send", "conversation_id": "c1", "text": "...", "ref": "client-id-1"}
      `ref` (optional) is the sender's id for the message: a send retried with the same
      ref is stored once, and the `ack` carries it back.
  {"type": "read", "conversation_id": "c1", "seq": 42}
  {"type": "typing", "conversation_id": "c1"}
  {"type": "auth", "token": "<new access token>"}   (keep the connection past expiry)
  {"type": "ping", "ref": "..."}

Server to client: ready, subscribed, message, message_updated, typing, read, ack,
auth_ok, pong and error frames (see `entrypoints.websocket`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

REF_PATTERN = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
MAX_SUBSCRIBE = 100


class FrameError(Exception):
    """A frame the server refuses; the connection stays open."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True)
class Subscribe:
    conversations: tuple[tuple[str, int | None], ...]
    ref: str | None = None


@dataclass(frozen=True)
class Unsubscribe:
    conversation_id: str
    ref: str | None = None


@dataclass(frozen=True)
class Send:
    conversation_id: str
    text: str
    ref: str | None = None


@dataclass(frozen=True)
class Read:
    conversation_id: str
    seq: int
    ref: str | None = None


@dataclass(frozen=True)
class Typing:
    conversation_id: str
    ref: str | None = None


@dataclass(frozen=True)
class Auth:
    token: str
    ref: str | None = None


@dataclass(frozen=True)
class Ping:
    ref: str | None = None


ClientFrame = Subscribe | Unsubscribe | Send | Read | Typing | Auth | Ping


def _id(value: Any, name: str, ref: str | None) -> str:
    if not isinstance(value, str) or not REF_PATTERN.match(value):
        raise FrameError("bad_frame", f"{name} must be an id (letters, digits, ._:@-)", ref)
    return value


def _seq(value: Any, name: str, ref: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError("bad_frame", f"{name} must be a whole number >= 0", ref)
    return value


def _ref(body: dict[str, Any]) -> str | None:
    ref = body.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        raise FrameError("bad_frame", "ref must be 1 to 64 letters, digits or ._:@-")
    return ref


def _only(body: dict[str, Any], allowed: set[str], ref: str | None) -> None:
    extra = set(body) - allowed - {"type", "ref"}
    if extra:
        raise FrameError("bad_frame", f"unknown fields: {', '.join(sorted(extra))}", ref)


def parse_frame(raw: str) -> ClientFrame:
    """A client frame from its JSON text, or FrameError saying what is wrong."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise FrameError("bad_json", "frame is not valid JSON") from exc
    if not isinstance(body, dict):
        raise FrameError("bad_frame", "a frame is a JSON object with a type")
    ref = _ref(body)
    kind = body.get("type")
    if kind in ("subscribe", "resume"):
        _only(body, {"conversations"}, ref)
        items = body.get("conversations")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_SUBSCRIBE:
            raise FrameError(
                "bad_frame", f"conversations must list 1 to {MAX_SUBSCRIBE} conversations", ref
            )
        wanted: dict[str, int | None] = {}
        for item in items:
            if not isinstance(item, dict) or set(item) - {"id", "after_seq"}:
                raise FrameError("bad_frame", "each conversation is {id, after_seq?}", ref)
            after = item.get("after_seq")
            wanted[_id(item.get("id"), "id", ref)] = (
                None if after is None else _seq(after, "after_seq", ref)
            )
        return Subscribe(tuple(wanted.items()), ref)
    if kind == "unsubscribe":
        _only(body, {"conversation_id"}, ref)
        return Unsubscribe(_id(body.get("conversation_id"), "conversation_id", ref), ref)
    if kind == "send":
        _only(body, {"conversation_id", "text"}, ref)
        text = body.get("text")
        if not isinstance(text, str):
            raise FrameError("bad_frame", "text must be a string", ref)
        return Send(_id(body.get("conversation_id"), "conversation_id", ref), text, ref)
    if kind == "read":
        _only(body, {"conversation_id", "seq"}, ref)
        conversation = _id(body.get("conversation_id"), "conversation_id", ref)
        return Read(conversation, _seq(body.get("seq"), "seq", ref), ref)
    if kind == "typing":
        _only(body, {"conversation_id"}, ref)
        return Typing(_id(body.get("conversation_id"), "conversation_id", ref), ref)
    if kind == "auth":
        _only(body, {"token"}, ref)
        token = body.get("token")
        if not isinstance(token, str) or not 1 <= len(token) <= 8192:
            raise FrameError("bad_frame", "token must be an access token", ref)
        return Auth(token, ref)
    if kind == "ping":
        _only(body, set(), ref)
        return Ping(ref)
    raise FrameError("unknown_type", f"unknown frame type {kind!r}", ref)
