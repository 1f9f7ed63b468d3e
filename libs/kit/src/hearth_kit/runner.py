"""Run a service's ASGI app with uvicorn: graceful on SIGTERM, JSON logs, no access log."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from hearth_kit.logging import configure_logging
from hearth_kit.settings import ServiceSettings

# Time in-flight requests and consumer work get to finish after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 15


def server_config(app: Any, settings: ServiceSettings, **options: Any) -> uvicorn.Config:
    """How every Hearth process is served: uvloop and httptools, our JSON logs instead of
    uvicorn's, no access log (the app logs requests), a bounded graceful shutdown.
    `app` is any ASGI app; `options` add to or override uvicorn's settings (the gateway's
    proxy headers, say)."""
    config: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "lifespan": "on",
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets",
    }
    config.update(options)
    return uvicorn.Config(app, **config)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.Server(server_config(app, settings)).run()
