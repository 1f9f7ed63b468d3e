"""Fixtures: check-ins in-process on a SQLite store in a temporary folder, a fake clock,
no Kafka (events stay in the outbox, where the tests read them)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from checkins_testkit import START, Api, make_settings

from hearth_checkins.bootstrap import create_app
from hearth_timers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path)
    async with Api.running(create_app, settings, clock=clock, base_url="http://checkins") as api:
        await api.seed()
        yield api
