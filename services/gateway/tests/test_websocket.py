"""WebSocket proxying: verify before accepting, pipe frames both ways, close on expiry."""

from __future__ import annotations

import json

import pytest
from conftest import GatewayFactory, ServerThread
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hearth_devstack.broker import free_port
from hearth_kit.testing import TokenSigner


def ws_url(server: ServerThread, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/v1/chat/ws" + query


def test_frames_both_ways_with_header_token(gateway: ServerThread, token: str) -> None:
    with connect(
        ws_url(gateway, "?room=7"),
        additional_headers={"Authorization": f"Bearer {token}", "X-Request-ID": "ws-1"},
        open_timeout=5,
    ) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["service"] == "chat"
        assert hello["headers"]["authorization"] == f"Bearer {token}"
        assert hello["headers"]["x-request-id"] == "ws-1"
        assert hello["headers"]["traceparent"].startswith("00-")
        assert hello["query"] == "room=7"
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo:hi"
        ws.send(b"\x00\x01")
        assert ws.recv(timeout=5) == b"echo:\x00\x01"
        assert ws.response is not None
        assert ws.response.headers["x-request-id"] == "ws-1"


def test_query_token_for_browsers(gateway: ServerThread, token: str) -> None:
    with connect(ws_url(gateway, f"?access_token={token}"), open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        # The service gets the token as a header too, and verifies it again.
        assert hello["headers"]["authorization"] == f"Bearer {token}"


def test_subprotocol_is_negotiated_with_the_service(gateway: ServerThread, token: str) -> None:
    with connect(
        ws_url(gateway, f"?access_token={token}"),
        subprotocols=["hearth.chat.v1"],  # type: ignore[list-item]
        open_timeout=5,
    ) as ws:
        assert ws.subprotocol == "hearth.chat.v1"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 401, "unauthenticated"),
        ("?access_token=garbage", 401, "invalid_token"),
    ],
)
def test_refused_before_accepting(
    gateway: ServerThread, query: str, status: int, code: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(gateway, query), open_timeout=5)
    response = refused.value.response
    assert response.status_code == status
    assert json.loads(response.body or b"{}")["error"]["code"] == code


def test_expired_and_wrong_tenant_refused(gateway: ServerThread, signer: TokenSigner) -> None:
    with pytest.raises(InvalidStatus) as expired:
        connect(ws_url(gateway, f"?access_token={signer.token(ttl=-5)}"), open_timeout=5)
    assert expired.value.response.status_code == 401
    assert b"expired" in (expired.value.response.body or b"")
    with pytest.raises(InvalidStatus) as wrong:
        connect(
            ws_url(gateway, f"?access_token={signer.token()}"),
            additional_headers={"X-Hearth-Tenant": "another-council"},
            open_timeout=5,
        )
    assert wrong.value.response.status_code == 403


def test_origin_not_allowed_for_the_council(gateway: ServerThread, token: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(
            ws_url(gateway, f"?access_token={token}"),
            origin="https://evil.example",  # type: ignore[arg-type]
            open_timeout=5,
        )
    assert refused.value.response.status_code == 403
    with connect(
        ws_url(gateway, f"?access_token={token}"),
        origin="https://a.example",  # type: ignore[arg-type]
        open_timeout=5,
    ) as ws:
        assert json.loads(ws.recv(timeout=5))["service"] == "chat"


def test_service_close_code_reaches_the_client(gateway: ServerThread, token: str) -> None:
    with connect(ws_url(gateway, f"?access_token={token}"), open_timeout=5) as ws:
        ws.recv(timeout=5)
        ws.send("close-me")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert ws.close_code == 4000
    assert ws.close_reason == "asked to close"


def test_closed_when_the_token_expires(gateway: ServerThread, signer: TokenSigner) -> None:
    short = signer.token(ttl=2)
    with connect(ws_url(gateway, f"?access_token={short}"), open_timeout=5) as ws:
        ws.recv(timeout=5)
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=10)
    assert ws.close_code == 4401
    assert ws.close_reason == "token expired"


def test_chat_down_is_503(start_gateway: GatewayFactory, token: str) -> None:
    gw = start_gateway(chat_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(gw, f"?access_token={token}"), open_timeout=5)
    assert refused.value.response.status_code == 503
    body = json.loads(refused.value.response.body or b"{}")
    assert body["error"]["message"] == "chat service unavailable"


def test_unknown_websocket_path_is_404(gateway: ServerThread, token: str) -> None:
    url = gateway.url.replace("http://", "ws://") + f"/v1/alerts?access_token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5)
    assert refused.value.response.status_code == 404
