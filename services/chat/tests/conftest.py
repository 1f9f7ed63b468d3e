"""Fixtures: chat in-process on a SQLite store in a temporary folder, a fake clock, no
Kafka (events stay in the outbox, where the tests read them)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import safeguarding_standin  # noqa: F401  (installs itself only if the real one is absent)
from chat_testkit import START, Api, FakeIdentity, make_settings

from hearth_chat.bootstrap import create_app
from hearth_kit.store import SqliteStore
from hearth_kit.testing import TokenSigner
from hearth_timers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    signer = TokenSigner()
    identity = FakeIdentity()
    store = SqliteStore(tmp_path / "chat.sqlite3")
    app = create_app(
        make_settings(tmp_path),
        store=store,
        clock=clock,
        verifier=signer.verifier(),
        identity=identity,
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://chat") as client:
                api = Api(client=client, app=app, clock=clock, signer=signer, identity=identity)
                await api.seed()
                yield api
    finally:
        await store.close()
