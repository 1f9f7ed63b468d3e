"""Fixtures of the messaging tests: test event types in the catalogue, a store, a registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from hearth_contracts.registry import EVENT_TYPES
from hearth_kit.store.sqlite import SqliteStore

from .support import TEST_EVENT_TYPES


@pytest.fixture(scope="module", autouse=True)
def test_event_types() -> Iterator[None]:
    """Register the test event types in the catalogue (topic_for needs them) while this
    directory's modules run, so tests of the catalogue elsewhere never see them."""
    added = {cls.TYPE: cls for cls in TEST_EVENT_TYPES}
    EVENT_TYPES.update(added)
    yield
    for name in added:
        EVENT_TYPES.pop(name, None)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    db = SqliteStore(tmp_path / "messaging.sqlite3")
    yield db
    await db.close()
