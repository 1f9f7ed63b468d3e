"""Two chat replicas on the embedded Kafka-protocol broker, sharing one SQLite store: a
message posted through one reaches a socket on the other; an unanswered support request
publishes exactly one chat.support.unanswered however many replicas run the timer; a
deactivation published by identity closes the person's sockets, and no replica lets
them back in with the same token; a logout closes that sign-in's sockets only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from chat_testkit import make_settings, seed
from fastapi import FastAPI

from hearth_chat.bootstrap import create_app
from hearth_contracts import new_envelope, topic_for
from hearth_contracts.identity import SessionRevoked, UserDeactivated
from hearth_devstack.broker import EmbeddedBroker, free_port, start_embedded_broker
from hearth_kit.messaging import publish_envelope
from hearth_kit.testing import NORTH, TokenSigner, headers_for, served, topic_records

pytestmark = pytest.mark.integration


@dataclass
class Replica:
    app: FastAPI
    port: int
    url: str


@dataclass
class Stack:
    """Two replicas on one broker and one store, a client and the token signer."""

    broker: EmbeddedBroker
    signer: TokenSigner
    a: Replica
    b: Replica
    http: httpx.AsyncClient

    def auth(self, user: str, **claims: Any) -> dict[str, str]:
        return headers_for(self.signer, user, **claims)


@contextlib.asynccontextmanager
async def replica(
    tmp_path: Path, broker: EmbeddedBroker, signer: TokenSigner
) -> AsyncIterator[Replica]:
    port = free_port()
    settings = make_settings(
        tmp_path,
        messaging_enabled=True,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        http_port=port,
        feed_metadata_max_age_ms=300,
        timer_poll_seconds=0.2,
    )
    app = create_app(settings, verifier=signer.verifier())
    async with served(app, port) as url:
        yield Replica(app, port, url)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    signer = TokenSigner()
    with start_embedded_broker() as broker:
        async with (
            replica(tmp_path, broker, signer) as a,
            replica(tmp_path, broker, signer) as b,
            httpx.AsyncClient(timeout=10) as http,
        ):
            await seed(a.app.state.chat)
            yield Stack(broker, signer, a, b, http)


async def next_frame(ws: Any, kind: str, timeout: float = 15.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame  # type: ignore[no-any-return]


async def test_replicas_deliver_to_each_others_sockets(stack: Stack) -> None:
    a, b, http = stack.a, stack.b, stack.http
    made = await http.post(
        f"{b.url}/v1/conversations", json={"with_user_id": "dana"}, headers=stack.auth("rita")
    )
    assert made.status_code == 201, made.text
    conversation = made.json()["id"]
    dana = stack.auth("dana")
    async with websockets.connect(
        f"ws://127.0.0.1:{a.port}/v1/chat/ws",
        additional_headers=dana,
        subprotocols=["hearth.chat.v1"],  # type: ignore[list-item]
    ) as ws:
        await next_frame(ws, "ready")
        await ws.send(json.dumps({"type": "subscribe", "conversations": [{"id": conversation}]}))
        await next_frame(ws, "subscribed")
        started = time.monotonic()
        for n in range(1, 4):
            posted = await http.post(
                f"{b.url}/v1/conversations/{conversation}/messages",
                json={"text": f"from replica b {n}"},
                headers=stack.auth("rita"),
            )
            assert posted.status_code == 201, posted.text
        seqs = [(await next_frame(ws, "message"))["message"]["seq"] for _ in range(3)]
        assert seqs == [1, 2, 3]
        assert time.monotonic() - started < 15

        # Identity deactivates Dana: every replica's feed closes her sockets.
        data = UserDeactivated(user_id="dana", deactivated_by="ada")
        envelope = new_envelope(data, tenant_id=NORTH, subject="dana", producer="identity")
        await publish_envelope(a.app.state.runtime.broker, envelope, topic=topic_for(envelope.type))
        async with asyncio.timeout(15):
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await ws.recv()
        assert ws.close_code == 4403

    # Her token is still valid, but neither replica lets her back in with it.
    for replica in (a, b):
        assert await refusal(replica, dana) == ("forbidden", 4403)


async def test_a_logout_closes_that_sign_ins_sockets_on_every_replica(stack: Stack) -> None:
    a, b = stack.a, stack.b
    phone = stack.auth("dana", session_id="phone")
    tablet = stack.auth("dana", session_id="tablet")
    async with (
        _ready_socket(a, phone) as on_phone,
        _ready_socket(b, tablet) as on_tablet,
    ):
        data = SessionRevoked(user_id="dana", session_id="phone", reason="logout")
        envelope = new_envelope(data, tenant_id=NORTH, subject="dana", producer="identity")
        await publish_envelope(a.app.state.runtime.broker, envelope, topic=topic_for(envelope.type))
        async with asyncio.timeout(15):
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await on_phone.recv()
        assert (on_phone.close_code, on_phone.close_reason) == (4401, "signed out; sign in again")
        # Her tablet, another sign-in, stays connected and answers.
        await on_tablet.send(json.dumps({"type": "ping", "ref": "still-here"}))
        assert (await next_frame(on_tablet, "pong"))["ref"] == "still-here"

    # The phone's token is still unexpired, but no replica takes it any more: at once the
    # replica whose feed closed the socket, the other as soon as its own feed has heard.
    assert await refusal(a, phone) == ("unauthenticated", 4401)
    async with asyncio.timeout(15):
        while True:
            with contextlib.suppress(websockets.ConnectionClosed):
                # Let in before b heard, the socket is closed when it hears (no error frame).
                if await refusal(b, phone) == ("unauthenticated", 4401):
                    break
            await asyncio.sleep(0.1)
    async with _ready_socket(b, tablet):
        pass


@contextlib.asynccontextmanager
async def _ready_socket(replica: Replica, headers: dict[str, str]) -> AsyncIterator[Any]:
    async with websockets.connect(
        f"ws://127.0.0.1:{replica.port}/v1/chat/ws",
        additional_headers=headers,
        subprotocols=["hearth.chat.v1"],  # type: ignore[list-item]
    ) as ws:
        await next_frame(ws, "ready")
        yield ws


async def refusal(replica: Replica, headers: dict[str, str]) -> tuple[str, int | None]:
    """(error code, close code) of a socket chat refuses once accepted."""
    async with websockets.connect(
        f"ws://127.0.0.1:{replica.port}/v1/chat/ws",
        additional_headers=headers,
        subprotocols=["hearth.chat.v1"],  # type: ignore[list-item]
    ) as ws:
        error = await next_frame(ws, "error")
        async with asyncio.timeout(15):
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await ws.recv()
        return error["code"], ws.close_code


async def test_an_unanswered_request_is_published_once_by_many_replicas(stack: Stack) -> None:
    a, b, http = stack.a, stack.b, stack.http
    target = await http.put(
        f"{a.url}/v1/support/settings", json={"target_seconds": 5}, headers=stack.auth("ada")
    )
    assert target.status_code == 200
    opened = await http.post(
        f"{b.url}/v1/support/requests", json={"urgency": "urgent"}, headers=stack.auth("rita")
    )
    assert opened.status_code == 201, opened.text
    records = await topic_records(stack.broker.bootstrap_servers, "chat.support.unanswered")
    events = [json.loads(r.value) for r in records]
    assert [e["data"]["request_id"] for e in events] == [opened.json()["id"]]
    assert events[0]["data"]["urgency"] == "urgent"
    assert records[0].key == f"{NORTH}:rita".encode()
