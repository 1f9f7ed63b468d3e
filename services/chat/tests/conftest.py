"""Fixtures: chat in-process on a SQLite store in a temporary folder, a fake clock, no
Kafka (events stay in the outbox, where the tests read them)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chat_testkit import START, Api, make_settings
from ws_testkit import Chat, running_chat

from hearth_chat.bootstrap import create_app
from hearth_timers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path)
    async with Api.running(create_app, settings, clock=clock, base_url="http://chat") as api:
        await api.seed()
        yield api


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    """Chat behind Starlette's test client, for WebSocket tests."""
    with running_chat(tmp_path) as chat:
        yield chat
