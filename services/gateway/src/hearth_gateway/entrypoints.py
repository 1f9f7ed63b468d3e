"""The gateway's own HTTP surface: the dispatcher in front of everything, /openapi.json, /docs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from hearth_gateway.adapters import OpenApiCatalog
from hearth_gateway.domain.routes import API_PREFIX
from hearth_gateway.proxy import HttpProxy
from hearth_gateway.websocket import WebSocketProxy

_API_ROOT = API_PREFIX
_API_PREFIX = API_PREFIX + "/"


class GatewayDispatch:
    """The gateway's ASGI app: /v1 traffic goes straight to the proxy, the rest to FastAPI.

    The proxy path skips FastAPI (routing, middleware, telemetry) altogether; lifespan,
    /healthz, /readyz, /metrics, /openapi.json and /docs are served by the kit's app.
    """

    def __init__(
        self, app: FastAPI, *, http_proxy: HttpProxy, websocket_proxy: WebSocketProxy
    ) -> None:
        self.app = app
        self.state = app.state
        self.http_proxy = http_proxy
        self.websocket_proxy = websocket_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(_API_PREFIX) or path == _API_ROOT:
                await self.http_proxy(scope, receive, send)
                return
        elif kind == "websocket":
            await self.websocket_proxy(scope, receive, send)
            return
        await self.app(scope, receive, send)


def add_routes(app: FastAPI, catalog: OpenApiCatalog) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        document: dict[str, Any] = await catalog.document()
        return JSONResponse(document, headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Hearth API")
