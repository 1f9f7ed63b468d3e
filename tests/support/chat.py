"""Chat as client apps use it through the gateway: a real WebSocket client, and the HTTP
calls that set up who talks with whom.

`ChatSocket` keeps every frame it receives, in order (`seen`), and hands them out by type:
`next("ack", ref="m1")` returns the first unread frame of that type (and fields), reading
more from the socket until one arrives; frames of other types stay unread for later.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hearth_devstack.stack import Stack
from support.councils import Person
from support.surface import wait_for

WS_PATH = "/v1/chat/ws"
SUBPROTOCOL = Subprotocol("hearth.chat.v1")
# The machine is slow and shared: generous, but a test that waits this long has failed.
WITHIN = 30.0


@dataclass(frozen=True)
class Pods:
    """Two gateway pods behind a load balancer, each routed to its own chat pod: the
    stack's gateway to chat replica 0, and an extra gateway to an extra chat replica."""

    first: str  # gateway URL -> chat replica 0
    second: str  # gateway URL -> chat replica `chat_replica`
    chat_replica: int
    gateway_replica: int


@contextmanager
def two_pods(stack: Stack) -> Iterator[Pods]:
    """Start a second chat replica and a second gateway routed to it; stop both after."""
    chat = stack.start_replica("chat")
    try:
        gateway = stack.start_replica("gateway", env={"GATEWAY_CHAT_URL": stack.url("chat", chat)})
        try:
            yield Pods(stack.gateway_url, stack.url("gateway", gateway), chat, gateway)
        finally:
            stack.stop_replica("gateway", gateway)
    finally:
        stack.stop_replica("chat", chat)


def sockets_on(stack: Stack, replica: int) -> float:
    """How many chat sockets a chat replica holds (its own metric)."""
    metrics = httpx.get(f"{stack.url('chat', replica)}/metrics", timeout=10).text
    for line in metrics.splitlines():
        if line.startswith("hearth_chat_sockets_connected "):
            return float(line.split()[1])
    raise AssertionError("chat exports no hearth_chat_sockets_connected")


def ws_url(base_url: str, query: str = "") -> str:
    """The chat WebSocket of a gateway (`http://...` base URL)."""
    return "ws" + base_url.removeprefix("http") + WS_PATH + (f"?{query}" if query else "")


def _open(
    base_url: str,
    token: str | None,
    *,
    in_query: bool = False,
    subprotocol: bool = True,
    headers: dict[str, str] | None = None,
) -> ClientConnection:
    extra = dict(headers or {})
    query = ""
    if token is not None and in_query:
        query = f"access_token={token}"
    elif token is not None:
        extra["Authorization"] = f"Bearer {token}"
    connection = connect(
        ws_url(base_url, query),
        additional_headers=extra,
        subprotocols=[SUBPROTOCOL] if subprotocol else None,
        # Frames go out as they are, so a frame's size on the wire is the size sent.
        compression=None,
        proxy=None,
        open_timeout=WITHIN,
        close_timeout=10,
        max_size=None,
        # A connection the caller closes (the wrapper is the context manager).
        legacy=True,
    )
    assert isinstance(connection, ClientConnection)
    return connection


def refused(base_url: str, token: str | None, **options: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of a WebSocket the gateway refuses before accepting it."""
    try:
        connection = _open(base_url, token, **options)
    except InvalidStatus as exc:
        body: dict[str, Any] = json.loads(exc.response.body or b"{}")
        return exc.response.status_code, body
    connection.close()
    raise AssertionError("the WebSocket was accepted")


def refused_by_chat(
    base_url: str, person: Person | str, *, within: float = WITHIN
) -> tuple[str | None, int | None, str] | None:
    """A socket the gateway lets by and chat then refuses: (the code of chat's error
    frame, close code, reason); None if chat let it in (a `ready` frame came)."""
    with ChatSocket.open(base_url, person) as socket:
        first = socket.first(within=within)
        if first is not None and first.get("type") == "ready":
            return None
        code, reason = socket.closed(within=within)
        return (first or {}).get("code"), code, reason


class ChatSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []
        self._closed = False

    @classmethod
    def open(cls, base_url: str, person: Person | str | None, **options: Any) -> ChatSocket:
        """A socket through the gateway at `base_url` as `person` (or with a raw token)."""
        token = person.token if isinstance(person, Person) else person
        return cls(_open(base_url, token, **options))

    @classmethod
    def ready(cls, base_url: str, person: Person) -> ChatSocket:
        """An open socket whose `ready` frame has arrived (it names `person`)."""
        socket = cls.open(base_url, person)
        ready = socket.next("ready")
        assert ready["user_id"] == person.id, ready
        return socket

    def __enter__(self) -> ChatSocket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def subprotocol(self) -> str | None:
        return self.connection.subprotocol

    # ---- sending ------------------------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame))

    def send_raw(self, data: str | bytes, *, text: bool | None = None) -> None:
        """Exactly these bytes as one frame: `text=True` sends bytes as a text frame even
        when they are not UTF-8."""
        self.connection.send(data, text=text)

    def subscribe(self, conversation_id: str, after_seq: int | None = None) -> dict[str, Any]:
        """Follow a conversation (from `after_seq` when given); the `subscribed` frame."""
        ref = f"s-{uuid.uuid4().hex[:12]}"
        item: dict[str, Any] = {"id": conversation_id}
        if after_seq is not None:
            item["after_seq"] = after_seq
        kind = "subscribe" if after_seq is None else "resume"
        self.send({"type": kind, "conversations": [item], "ref": ref})
        return self.next_answer(ref, "subscribed")

    def say(self, conversation_id: str, text: str, ref: str | None = None) -> dict[str, Any]:
        """Send a message; the stored message its `ack` carries."""
        ref = ref or f"m-{uuid.uuid4().hex[:12]}"
        self.send({"type": "send", "conversation_id": conversation_id, "text": text, "ref": ref})
        ack = self.next_answer(ref, "ack")
        message: dict[str, Any] = ack["message"]
        return message

    def ping(self) -> None:
        """A round trip: every frame the server queued before the pong has arrived after it."""
        ref = f"p-{uuid.uuid4().hex[:12]}"
        self.send({"type": "ping", "ref": ref})
        self.next("pong", ref=ref)

    # ---- receiving ----------------------------------------------------------------------
    def next(self, kind: str, *, within: float = WITHIN, **fields: Any) -> dict[str, Any]:
        """The first unread frame of `kind` whose `fields` are as given."""
        deadline = time.monotonic() + within
        while True:
            for index, frame in enumerate(self._unread):
                if frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items()):
                    return self._unread.pop(index)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} frame {fields} within {within:.0f}s: {self.seen}")
            if not self._receive(left):
                raise AssertionError(
                    f"closed ({self.close_code} {self.close_reason!r}) before a {kind} frame "
                    f"{fields}: {self.seen}"
                )

    def next_answer(self, ref: str, kind: str) -> dict[str, Any]:
        """The answer to the frame sent with `ref`: fails naming the error if it is one."""
        found = self.next_answer_any(ref)
        assert found["type"] == kind, f"{kind} expected, got {found}"
        return found

    def next_answer_any(self, ref: str) -> dict[str, Any]:
        """The first unread frame answering the one sent with `ref` (an error too)."""
        deadline = time.monotonic() + WITHIN
        while True:
            for index, frame in enumerate(self._unread):
                if frame.get("ref") == ref:
                    return self._unread.pop(index)
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to {ref} within {WITHIN:.0f}s: {self.seen}"
            assert self._receive(left), f"closed before the answer to {ref}: {self.seen}"

    def messages(
        self, conversation_id: str, count: int, *, within: float = WITHIN
    ) -> list[dict[str, Any]]:
        """The next `count` messages of a conversation, as they arrive."""
        return [
            self.next("message", within=within, conversation_id=conversation_id)["message"]
            for _ in range(count)
        ]

    def first(self, *, within: float = WITHIN) -> dict[str, Any] | None:
        """The first frame the server sent (None if it closed without one)."""
        deadline = time.monotonic() + within
        while not self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no frame within {within:.0f}s"
            if not self._receive(left):
                return None
        return self.seen[0]

    def unread(self, kind: str) -> list[dict[str, Any]]:
        """Frames of `kind` received but not handed out yet."""
        return [frame for frame in self._unread if frame.get("type") == kind]

    def closed(self, *, within: float = WITHIN) -> tuple[int | None, str]:
        """Read until the server closes the socket: (close code, reason) as received."""
        deadline = time.monotonic() + within
        while self._receive(max(0.0, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                raise AssertionError(f"still open after {within:.0f}s: {self.seen}")
        return self.close_code, self.close_reason

    @property
    def close_code(self) -> int | None:
        return self.connection.close_code

    @property
    def close_reason(self) -> str:
        return self.connection.close_reason or ""

    def close(self) -> None:
        self.connection.close()

    def _receive(self, timeout: float) -> bool:
        """Read one frame into `seen`; False once the socket is closed."""
        if self._closed:
            return False
        try:
            data = self.connection.recv(timeout=timeout)
        except TimeoutError:
            return True
        except ConnectionClosed:
            self._closed = True
            return False
        frame = json.loads(data)
        self.seen.append(frame)
        self._unread.append(frame)
        return True


# ---- setting up conversations over HTTP ---------------------------------------------------
def start_direct(http: httpx.Client, by: Person, with_person: Person) -> str:
    """The direct conversation of two people who may talk (created or found)."""
    response = http.post(
        "/v1/conversations", json={"with_user_id": with_person.id}, headers=by.auth
    )
    assert response.status_code in (200, 201), response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


def post_message(http: httpx.Client, by: Person, conversation_id: str, text: str) -> dict[str, Any]:
    response = http.post(
        f"/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=by.auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def history(http: httpx.Client, by: Person, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of a conversation, oldest first (from the newest-first pages)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"before": cursor} if cursor else {})}
        response = http.get(
            f"/v1/conversations/{conversation_id}/messages", params=params, headers=by.auth
        )
        assert response.status_code == 200, response.text
        found.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if not cursor:
            return sorted(found, key=lambda m: int(m["seq"]))


def request_support(http: httpx.Client, by: Person, **body: Any) -> dict[str, Any]:
    response = http.post("/v1/support/requests", json=body, headers=by.auth)
    assert response.status_code == 201, response.text
    request: dict[str, Any] = response.json()
    return request


def flag_of(http: httpx.Client, staff: Person, message_id: str) -> dict[str, Any] | None:
    """The safeguarding flag of a message, as staff review it, once it is listed."""
    response = http.get("/v1/safeguarding/flags", params={"limit": 200}, headers=staff.auth)
    assert response.status_code == 200, response.text
    return next((f for f in response.json()["items"] if f["id"] == message_id), None)


def wait_for_flag(http: httpx.Client, staff: Person, message_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: flag_of(http, staff, message_id), within=WITHIN, what=f"the flag of {message_id}"
    )
