"""Running a service's app in tests: in-process (its lifespan and an HTTP client over
ASGI, `InProcess` with the signer and fake identity it trusts) or served by uvicorn on a
real port; waiting for a condition; reading what was published on a topic."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from hearth_kit.testing.people import FakeIdentity, headers_for
from hearth_kit.testing.tokens import TokenSigner


@contextlib.asynccontextmanager
async def in_process(
    app: FastAPI, base_url: str = "http://test"
) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan) and a client that calls it without a socket."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@dataclass
class InProcess:
    """A service's app running in this process for a test: a client calling it, the
    signer of the tokens it trusts, the fake identity it asks and the clock it reads.
    A service's test kit subclasses it with its own helpers."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: Any
    signer: TokenSigner
    identity: FakeIdentity

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        """Headers of a request by one of `PEOPLE` (see `headers_for`), and `extra`."""
        return {**headers_for(self.signer, user), **extra}

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, create_app: Callable[..., FastAPI], settings: Any, *, clock: Any, base_url: str
    ) -> AsyncIterator[Self]:
        """`create_app(settings, clock=, verifier=, identity=)` (every service's shape)
        started, with a fresh signer and fake identity."""
        signer, identity = TokenSigner(), FakeIdentity()
        app = create_app(settings, clock=clock, verifier=signer.verifier(), identity=identity)
        async with in_process(app, base_url) as client:
            yield cls(client=client, app=app, clock=clock, signer=signer, identity=identity)


@contextlib.asynccontextmanager
async def served(app: FastAPI, port: int) -> AsyncIterator[str]:
    """The app served by uvicorn on 127.0.0.1:`port` in this process; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{app.title} stopped while starting")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 5.0) -> None:
    """Wait (real time, up to `within` seconds) until `check` holds; fail if it never
    does. `check` may be a plain or an async function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def topic_records(
    bootstrap_servers: str, topic: str, *, within: float = 30.0, settle: float = 3.0
) -> list[Any]:
    """The records on `topic` from its start: waits up to `within` seconds for the
    first, then listens `settle` seconds more, so a record published twice would show."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        metadata_max_age_ms=300,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while not records:
                batch = await consumer.getmany(timeout_ms=200)
                records += [r for rs in batch.values() for r in rs]
        until = time.monotonic() + settle
        while time.monotonic() < until:
            batch = await consumer.getmany(timeout_ms=200)
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records
