"""Fixtures for cross-service tests: a real stack of processes on free ports.

`stack` (session): the embedded broker and every installed service as real processes in a
temporary data folder. Tests may kill and restart its processes; each test leaves it
running (restart what you stop). `demo` (session): the demo council seeded through it.
`http` (module): a client of the gateway.
Tests that use either are end-to-end tests (marked `e2e` automatically).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack
from hearth_devstack.testing import StackStartError, describe_events, running_stack

STACK_FIXTURES = {"stack", "demo"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("hearth-stack")
    try:
        with running_stack(data_dir) as started:
            yield started
            if started.crashes:
                crashes = describe_events(started.crashes)
                print(f"\nprocesses that crashed during the tests:\n{crashes}")
    except StackStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def demo(stack: Stack) -> SeedResult:
    return stack.seed_demo()


@pytest.fixture(scope="module")
def http(stack: Stack) -> Iterator[httpx.Client]:
    """A client of the gateway, as client apps reach Hearth."""
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        yield client
