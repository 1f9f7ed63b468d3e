"""Two chat replicas on the embedded Kafka-protocol broker, sharing one SQLite store: a
message posted through one reaches a socket on the other; an unanswered support request
publishes exactly one chat.support.unanswered however many replicas run the timer; a
deactivation published by identity closes the person's sockets."""

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
import uvicorn
import websockets
from aiokafka import AIOKafkaConsumer
from chat_testkit import NORTH, auth, make_settings, seed
from fastapi import FastAPI

from hearth_chat.bootstrap import create_app
from hearth_contracts import new_envelope, topic_for
from hearth_contracts.identity import UserDeactivated
from hearth_devstack.broker import EmbeddedBroker, free_port, start_embedded_broker
from hearth_kit.messaging import publish_envelope
from hearth_kit.testing import TokenSigner

pytestmark = pytest.mark.integration


@dataclass
class Replica:
    app: FastAPI
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


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
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("chat stopped while starting")
        await asyncio.sleep(0.05)
    try:
        yield Replica(app, port)
    finally:
        server.should_exit = True
        await task


async def next_frame(ws: Any, kind: str, timeout: float = 15.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame  # type: ignore[no-any-return]


async def test_replicas_deliver_to_each_others_sockets(tmp_path: Path) -> None:
    signer = TokenSigner()
    with start_embedded_broker() as broker:
        async with (
            replica(tmp_path, broker, signer) as a,
            replica(tmp_path, broker, signer) as b,
            httpx.AsyncClient(timeout=10) as http,
        ):
            await seed(a.app.state.chat)
            made = await http.post(
                f"{b.url}/v1/conversations",
                json={"with_user_id": "dana"},
                headers=auth(signer, "rita"),
            )
            assert made.status_code == 201, made.text
            conversation = made.json()["id"]
            async with websockets.connect(
                f"ws://127.0.0.1:{a.port}/v1/chat/ws",
                additional_headers=auth(signer, "dana"),
                subprotocols=["hearth.chat.v1"],  # type: ignore[list-item]
            ) as ws:
                await next_frame(ws, "ready")
                await ws.send(
                    json.dumps({"type": "subscribe", "conversations": [{"id": conversation}]})
                )
                await next_frame(ws, "subscribed")
                started = time.monotonic()
                for n in range(1, 4):
                    posted = await http.post(
                        f"{b.url}/v1/conversations/{conversation}/messages",
                        json={"text": f"from replica b {n}"},
                        headers=auth(signer, "rita"),
                    )
                    assert posted.status_code == 201, posted.text
                seqs = [(await next_frame(ws, "message"))["message"]["seq"] for _ in range(3)]
                assert seqs == [1, 2, 3]
                assert time.monotonic() - started < 15

                # Identity deactivates Dana: every replica's feed closes her sockets.
                data = UserDeactivated(user_id="dana", deactivated_by="ada")
                envelope = new_envelope(data, tenant_id=NORTH, subject="dana", producer="identity")
                await publish_envelope(
                    a.app.state.runtime.broker, envelope, topic=topic_for(envelope.type)
                )
                async with asyncio.timeout(15):
                    with contextlib.suppress(websockets.ConnectionClosed):
                        while True:
                            await ws.recv()
                assert ws.close_code == 4403


async def test_an_unanswered_request_is_published_once_by_many_replicas(tmp_path: Path) -> None:
    signer = TokenSigner()
    with start_embedded_broker() as broker:
        async with (
            replica(tmp_path, broker, signer) as a,
            replica(tmp_path, broker, signer) as b,
            httpx.AsyncClient(timeout=10) as http,
        ):
            await seed(a.app.state.chat)
            target = await http.put(
                f"{a.url}/v1/support/settings",
                json={"target_seconds": 5},
                headers=auth(signer, "ada"),
            )
            assert target.status_code == 200
            opened = await http.post(
                f"{b.url}/v1/support/requests",
                json={"urgency": "urgent"},
                headers=auth(signer, "rita"),
            )
            assert opened.status_code == 201, opened.text
            consumer = AIOKafkaConsumer(
                "chat.support.unanswered",
                bootstrap_servers=broker.bootstrap_servers,
                group_id=None,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=50,
                metadata_max_age_ms=300,
            )
            await consumer.start()
            records = []
            try:
                async with asyncio.timeout(30):
                    while not records:
                        batch = await consumer.getmany(timeout_ms=200)
                        records += [r for rs in batch.values() for r in rs]
                settle = time.monotonic() + 3
                while time.monotonic() < settle:
                    batch = await consumer.getmany(timeout_ms=200)
                    records += [r for rs in batch.values() for r in rs]
            finally:
                await consumer.stop()
            events = [json.loads(r.value) for r in records]
            assert [e["data"]["request_id"] for e in events] == [opened.json()["id"]]
            assert events[0]["data"]["urgency"] == "urgent"
            assert records[0].key == f"{NORTH}:rita".encode()
