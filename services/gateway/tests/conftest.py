"""Fixtures: real local upstreams and a real gateway, each a uvicorn server on a free port.

Servers run in background threads with their own event loops so tests can use plain
synchronous clients (httpx, websockets.sync) and share servers across a module.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hearth_devstack.broker import free_port
from hearth_kit.testing import TokenSigner

sys.path.insert(0, str(Path(__file__).parent))

from fake_upstream import fake_service

from hearth_gateway.bootstrap import create_gateway_app, server_config
from hearth_gateway.settings import GatewaySettings


class ServerThread:
    """A uvicorn server running in a thread; `url` once started."""

    def __init__(self, app: Any, config: uvicorn.Config | None = None) -> None:
        if config is None:
            config = uvicorn.Config(
                app,
                host="127.0.0.1",
                port=free_port(),
                log_level="warning",
                access_log=False,
                lifespan="on",
                ws="websockets-sansio",
            )
        config.timeout_graceful_shutdown = 1
        self.port = config.port
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def signer() -> TokenSigner:
    return TokenSigner(kid="test-key-1")


@pytest.fixture(scope="session")
def upstreams(signer: TokenSigner) -> Iterator[dict[str, ServerThread]]:
    """Fake identity, checkins, alerts and chat services (all echo what they receive)."""
    servers = {
        name: ServerThread(fake_service(name, signer)).start()
        for name in ("identity", "checkins", "alerts", "chat")
    }
    yield servers
    for server in servers.values():
        server.stop()


GatewayFactory = Callable[..., ServerThread]


@pytest.fixture(scope="session")
def start_gateway(upstreams: dict[str, ServerThread]) -> Iterator[GatewayFactory]:
    """Start a gateway in front of the fake services, with settings overrides."""
    started: list[ServerThread] = []

    def start(**overrides: Any) -> ServerThread:
        values: dict[str, Any] = {
            "identity_url": upstreams["identity"].url,
            "checkins_url": upstreams["checkins"].url,
            "alerts_url": upstreams["alerts"].url,
            "chat_url": upstreams["chat"].url,
            "jwks_url": upstreams["identity"].url + "/v1/auth/jwks",
            "read_timeout": 2.0,
            "openapi_cache_seconds": 0.0,
        }
        values.update(overrides)
        settings = GatewaySettings(http_port=free_port(), **values)
        app = create_gateway_app(settings)
        server = ServerThread(app, server_config(app, settings)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def gateway(start_gateway: GatewayFactory) -> ServerThread:
    """A gateway with generous limits, shared by tests that do not exhaust them."""
    return start_gateway(
        ip_rate=10_000,
        ip_burst=10_000,
        user_rate=10_000,
        user_burst=10_000,
        cors_origins={"*": ["https://app.hearth.example"], "council-a": ["https://a.example"]},
    )


@pytest.fixture
def token(signer: TokenSigner) -> str:
    return signer.token(user_id="user-1", tenant_slug="council-a")


# Helpers shared by the test modules (imported as `from conftest import ...`).
def seen(upstream: ServerThread) -> int:
    return int(httpx.get(upstream.url + "/_seen").json()["count"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return dict(body["error"])
