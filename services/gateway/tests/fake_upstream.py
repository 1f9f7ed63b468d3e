"""A small real service standing in for identity/checkins/alerts/chat behind the gateway."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from hearth_kit.testing import TokenSigner

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def openapi_document(name: str) -> dict[str, Any]:
    """A document shaped like FastAPI's: one owned path, one path the gateway won't route."""
    owned = {
        "identity": "/v1/users/{user_id}",
        "checkins": "/v1/residents/{resident_id}/checkins",
        "alerts": "/v1/alerts",
        "chat": "/v1/conversations",
    }[name]
    return {
        "openapi": "3.1.0",
        "info": {"title": name, "version": "1"},
        "paths": {
            owned: {
                "get": {
                    "operationId": "read_thing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"}
                                }
                            },
                        }
                    },
                }
            },
            "/internal/reset": {"post": {"responses": {"200": {"description": "ok"}}}},
        },
        "components": {
            "schemas": {
                "Thing": {"type": "object", "properties": {"owner": {"const": name}}},
                "Shared": {"type": "string"},
            }
        },
    }


def fake_service(name: str, signer: TokenSigner) -> Starlette:
    received: list[dict[str, Any]] = []
    streams_closed: list[int] = []

    async def echo(request: Request) -> Response:
        body = await request.body()
        seen = {
            "service": name,
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        received.append(seen)
        status = int(request.query_params.get("status", "200"))
        return JSONResponse(
            seen,
            status_code=status,
            headers={"X-Upstream": name, "Access-Control-Allow-Origin": "*"},
        )

    async def jwks(_: Request) -> Response:
        return JSONResponse(signer.jwks())

    async def openapi(_: Request) -> Response:
        return JSONResponse(openapi_document(name))

    async def slow(request: Request) -> Response:
        await asyncio.sleep(float(request.query_params.get("seconds", "5")))
        return JSONResponse({"slow": True})

    async def events(request: Request) -> Response:
        count = int(request.query_params.get("count", "3"))

        async def generate() -> AsyncIterator[bytes]:
            try:
                for i in range(count):
                    yield f"data: {i}\n\n".encode()
                    await asyncio.sleep(0.05)
            finally:
                streams_closed.append(1)

        return StreamingResponse(generate(), media_type="text/event-stream")

    async def big(request: Request) -> Response:
        size = int(request.query_params.get("size", str(300 * 1024)))
        return Response(b"x" * size, media_type="application/octet-stream")

    async def seen(_: Request) -> Response:
        return JSONResponse(
            {
                "count": len(received),
                "last": received[-1] if received else None,
                "streams_closed": len(streams_closed),
            }
        )

    async def ws_echo(websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=offered[0] if offered else None)
        await websocket.send_json(
            {
                "service": name,
                "headers": {k.decode(): v.decode() for k, v in websocket.scope["headers"]},
                "query": websocket.scope["query_string"].decode(),
            }
        )
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") == "close-me":
                    await websocket.close(code=4000, reason="asked to close")
                    return
                if message.get("text") is not None:
                    await websocket.send_text("echo:" + message["text"])
                else:
                    await websocket.send_bytes(b"echo:" + message["bytes"])
        except WebSocketDisconnect:
            return

    return Starlette(
        routes=[
            Route("/v1/auth/jwks", jwks),
            Route("/openapi.json", openapi),
            Route("/_seen", seen),
            Route("/v1/residents/{rid}/checkins/slow", slow),
            Route("/v1/alerts/stream", events),
            Route("/v1/conversations/big", big),
            WebSocketRoute("/v1/chat/ws", ws_echo),
            Route("/{path:path}", echo, methods=ALL_METHODS),
        ]
    )
