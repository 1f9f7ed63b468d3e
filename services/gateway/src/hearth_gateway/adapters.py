"""Connections to the services behind the gateway: pooled HTTP clients and OpenAPI fetches."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hearth_gateway.domain.openapi import merge_openapi
from hearth_gateway.settings import GatewaySettings
from hearth_gateway.upstream import Timeouts, UpstreamError, UpstreamPool

log = logging.getLogger("hearth.gateway")


@dataclass
class Upstream:
    """One service: its base URL and one pool of keep-alive connections."""

    name: str
    base_url: str
    pool: UpstreamPool

    @property
    def ws_base_url(self) -> str:
        if self.base_url.startswith("https://"):
            return "wss://" + self.base_url[len("https://") :]
        return "ws://" + self.base_url[len("http://") :]


def upstream_timeouts(settings: GatewaySettings) -> Timeouts:
    return Timeouts(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.write_timeout,
        pool=settings.pool_timeout,
    )


class Upstreams:
    """The configured services; a service with no URL is simply absent."""

    def __init__(self, upstreams: dict[str, Upstream]) -> None:
        self._by_name = upstreams

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Upstreams:
        timeouts = upstream_timeouts(settings)
        return cls(
            {
                name: Upstream(
                    name,
                    url,
                    UpstreamPool(
                        url,
                        timeouts,
                        max_connections=settings.max_connections,
                        max_idle=settings.max_keepalive_connections,
                        keepalive_expiry=settings.keepalive_expiry,
                    ),
                )
                for name, url in settings.upstream_urls().items()
                if url
            }
        )

    def get(self, name: str) -> Upstream | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    async def aclose(self) -> None:
        for upstream in self._by_name.values():
            await upstream.pool.aclose()


async def fetch_json(upstream: Upstream, path: bytes, seconds: float) -> Any:
    """GET a JSON document from a service; raises UpstreamError, TimeoutError or ValueError."""

    async def get() -> Any:
        response = await upstream.pool.request(
            "GET", path, [(b"accept", b"application/json")], retry=True
        )
        try:
            body = await response.read()
        finally:
            await response.aclose()
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        return json.loads(body)

    return await asyncio.wait_for(get(), seconds)


class OpenApiCatalog:
    """The merged OpenAPI document, rebuilt on demand when older than `ttl` seconds.

    A service that is down is listed as unavailable, and its absence is remembered only
    briefly so the document fills in as soon as it is back.
    """

    def __init__(
        self,
        upstreams: Upstreams,
        service_names: list[str],
        *,
        ttl: float,
        fetch_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstreams = upstreams
        self._service_names = service_names
        self._ttl = ttl
        self._fetch_timeout = fetch_timeout
        self._clock = clock
        self._cached: dict[str, Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        if self._cached is not None and self._clock() < self._expires:
            return self._cached
        async with self._lock:
            if self._cached is not None and self._clock() < self._expires:
                return self._cached
            docs = await asyncio.gather(*(self._fetch(n) for n in self._service_names))
            documents = dict(zip(self._service_names, docs, strict=True))
            self._cached = merge_openapi(documents)
            ttl = self._ttl if all(d is not None for d in docs) else min(self._ttl, 5.0)
            self._expires = self._clock() + ttl
            return self._cached

    async def _fetch(self, name: str) -> dict[str, Any] | None:
        upstream = self._upstreams.get(name)
        if upstream is None:
            return None
        try:
            body = await fetch_json(upstream, b"/openapi.json", self._fetch_timeout)
        except (UpstreamError, TimeoutError, ValueError) as exc:
            log.warning(
                "openapi document unavailable",
                extra={"fields": {"upstream": name, "reason": f"{type(exc).__name__}: {exc}"}},
            )
            return None
        return body if isinstance(body, dict) else None
