"""Wire the gateway: settings -> upstream pools, token verifier, guard, proxies, kit app.

Nothing connects here: clients open connections on first use and close at shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_gateway.adapters import OpenApiCatalog, Upstreams
from hearth_gateway.domain.cors import CorsPolicy
from hearth_gateway.entrypoints import GatewayDispatch, add_routes
from hearth_gateway.handlers import Guard
from hearth_gateway.metrics import GatewayMetrics
from hearth_gateway.proxy import HttpProxy
from hearth_gateway.settings import GatewaySettings
from hearth_gateway.websocket import WebSocketProxy
from hearth_kit.auth import HttpJwksSource, TokenError, TokenVerifier
from hearth_kit.http import create_app
from hearth_kit.runner import server_config as kit_server_config

log = logging.getLogger("hearth.gateway")


class SigningKeys:
    """Readiness: the gateway is ready once it has loaded identity's signing keys."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier
        self.loaded = False

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            await self._verifier.refresh_keys()
            self.loaded = True


def create_gateway_app(
    settings: GatewaySettings | None = None,
    *,
    token_verifier: TokenVerifier | None = None,
    registry: CollectorRegistry | None = None,
) -> GatewayDispatch:
    """The gateway as one ASGI app (`.app` is the kit's FastAPI app behind the proxy)."""
    settings = settings or GatewaySettings()
    registry = registry or CollectorRegistry()
    upstreams = Upstreams.from_settings(settings)
    jwks_client = httpx.AsyncClient(
        timeout=httpx.Timeout(3.0, connect=settings.connect_timeout), trust_env=False
    )
    verifier = token_verifier or TokenVerifier(
        HttpJwksSource(settings.jwks_url, jwks_client), issuer=settings.token_issuer
    )
    keys = SigningKeys(verifier)
    guard = Guard.from_settings(settings, verifier)
    cors = CorsPolicy.from_config(
        settings.cors_origins,
        max_age=settings.cors_max_age,
        allow_credentials=settings.cors_allow_credentials,
    )
    metrics = GatewayMetrics(registry)
    catalog = OpenApiCatalog(
        upstreams,
        list(settings.upstream_urls()),
        ttl=settings.openapi_cache_seconds,
        fetch_timeout=settings.openapi_fetch_timeout,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await keys.ensure_loaded()
        except TokenError:
            log.warning("signing keys not loaded yet; will retry on first token")
        try:
            yield
        finally:
            await upstreams.aclose()
            await jwks_client.aclose()

    app = create_app(
        settings=settings,
        title="Hearth gateway",
        registry=registry,
        lifespan=lifespan,
        readiness=[("signing_keys", keys.ensure_loaded)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    add_routes(app, catalog)
    common = {
        "settings": settings,
        "guard": guard,
        "upstreams": upstreams,
        "cors": cors,
        "metrics": metrics,
    }
    app.state.guard = guard
    app.state.token_verifier = verifier
    app.state.upstreams = upstreams
    return GatewayDispatch(
        app,
        http_proxy=HttpProxy(**common),  # type: ignore[arg-type]
        websocket_proxy=WebSocketProxy(**common),  # type: ignore[arg-type]
    )


def server_config(app: GatewayDispatch, settings: GatewaySettings) -> uvicorn.Config:
    """How the gateway is served: uvloop, httptools, and client addresses from the socket
    unless the peer is one of the trusted proxies."""
    return kit_server_config(
        app,
        settings,
        ws="websockets-sansio",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        server_header=False,
        ws_max_size=settings.ws_max_message_bytes,
    )
