"""The app factory every service uses: health, readiness, metrics, errors, request ids."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hearth_kit.http.errors import error_body, install_error_handlers
from hearth_kit.http.middleware import BodyLimit, HttpMetrics, RequestContextMiddleware
from hearth_kit.settings import ServiceSettings

ReadinessCheck = tuple[str, Callable[[], Awaitable[object]]]
Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]
_READINESS_TIMEOUT = 2.0
# Hearth's requests are small JSON documents; the gateway allows more for streams.
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def create_app(
    *,
    settings: ServiceSettings,
    title: str,
    registry: CollectorRegistry,
    lifespan: Lifespan | None = None,
    readiness: Sequence[ReadinessCheck] = (),
    version: str = "1.0.0",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with /healthz (alive), /readyz (dependencies reachable) and /metrics.

    `readiness` is a list of (name, async check); a check that raises or takes longer
    than two seconds makes /readyz answer 503 naming what is not ready.
    """

    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan(app):
            yield

    app = FastAPI(title=title, version=version, lifespan=run, **fastapi_kwargs)
    app.state.settings = settings
    app.state.registry = registry
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware, metrics=HttpMetrics(registry, settings.service_name)
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        failures: dict[str, str] = {}
        for name, check in readiness:
            try:
                await asyncio.wait_for(check(), timeout=_READINESS_TIMEOUT)
            except Exception as exc:
                failures[name] = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        if failures:
            body = error_body(
                "not_ready",
                f"not ready: {', '.join(sorted(failures))}",
                [{"field": k, "reason": v} for k, v in failures.items()],
            )
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "service": settings.service_name})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
