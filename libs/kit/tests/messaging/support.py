"""Test event types and helpers shared by the messaging tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from hearth_contracts import EventData


class Pinged(EventData):
    TYPE = "kit.test.pinged"
    resident_id: str
    note: str = ""


class Flaky(EventData):
    TYPE = "kit.test.flaky"
    resident_id: str
    fail_times: int


class Doomed(EventData):
    TYPE = "kit.test.doomed"
    resident_id: str


class Counted(EventData):
    TYPE = "kit.test.counted"
    n: int


TEST_EVENT_TYPES: tuple[type[EventData], ...] = (Pinged, Flaky, Doomed, Counted)


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def eventually(check: Callable[[], bool], *, timeout: float = 20.0, what: str = "") -> None:
    """Wait until `check()` holds (the broker delivers asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.01)
