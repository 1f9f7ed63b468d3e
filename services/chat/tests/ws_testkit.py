"""The chat WebSocket under Starlette's test client (one replica, no Kafka): a client
app, and reading frames and close codes."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from chat_testkit import make_settings, seed
from starlette.testclient import TestClient, WebSocketTestSession

from hearth_chat.bootstrap import create_app
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.testing import FakeIdentity, TokenSigner, headers_for

T = TypeVar("T")

WS = "/v1/chat/ws"


class Chat:
    def __init__(self, client: TestClient, signer: TokenSigner) -> None:
        self.client = client
        self.signer = signer

    def headers(self, user: str, **kw: Any) -> dict[str, str]:
        return headers_for(self.signer, user, **kw)

    def connect(self, user: str, **kw: Any) -> WebSocketTestSession:
        return self.client.websocket_connect(WS, headers=self.headers(user, **kw))

    def direct(self, by: str = "rita", other: str = "dana") -> str:
        response = self.client.post(
            "/v1/conversations", json={"with_user_id": other}, headers=self.headers(by)
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    @property
    def deps(self) -> ChatDeps:
        found: ChatDeps = self.client.app.state.chat  # type: ignore[attr-defined]
        return found

    def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call` on the app's event loop."""
        assert self.client.portal is not None
        return self.client.portal.call(call)

    def post(self, conversation: str, text: str, by: str = "rita") -> dict[str, Any]:
        response = self.client.post(
            f"/v1/conversations/{conversation}/messages",
            json={"text": text},
            headers=self.headers(by),
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


@contextlib.contextmanager
def running_chat(tmp_path: Path) -> Iterator[Chat]:
    """Chat in-process behind Starlette's test client, its people seeded."""
    signer = TokenSigner()
    settings = make_settings(
        tmp_path, ws_frames_per_second=50, ws_frame_burst=20, ws_max_frame_bytes=4096
    )
    # Identity knows no more than its events told chat.
    app = create_app(settings, verifier=signer.verifier(), identity=FakeIdentity())
    with TestClient(app) as client:
        assert client.portal is not None
        client.portal.call(seed, app.state.chat)
        yield Chat(client, signer)


def frames_until(ws: WebSocketTestSession, kind: str, limit: int = 50) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        seen.append(frame)
        if frame["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} frame in {seen}")


def closed_with(ws: WebSocketTestSession) -> tuple[int, str]:
    for _ in range(50):
        message = ws.receive()
        if message["type"] == "websocket.close":
            return int(message["code"]), str(message.get("reason", ""))
    raise AssertionError("the socket was not closed")


def answer_to(ws: WebSocketTestSession, ref: str, limit: int = 50) -> dict[str, Any]:
    """The first frame answering the one sent with `ref` (an error too)."""
    for _ in range(limit):
        frame: dict[str, Any] = ws.receive_json()
        if frame.get("ref") == ref:
            return frame
    raise AssertionError(f"no answer to {ref}")
