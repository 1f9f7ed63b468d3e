"""Run a service's ASGI app with uvicorn: graceful on SIGTERM, JSON logs, no access log."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from hearth_kit.logging import configure_logging
from hearth_kit.settings import ServiceSettings

# Time in-flight requests and consumer work get to finish after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 15


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
        loop="uvloop",
        http="httptools",
        ws="websockets",
    )
    uvicorn.Server(config).run()
