"""One error shape for every Hearth HTTP response: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hearth_kit.errors import DomainError
from hearth_kit.store.cursor import BadCursor
from hearth_kit.store.port import ConcurrencyConflict, DuplicateKey, NotFound

log = logging.getLogger("hearth.http")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise from a route or handler to answer with a clear 4xx/5xx and a reason."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    details = []
    for err in errors[:20]:
        loc = [str(part) for part in err.get("loc", ())]
        details.append({"field": ".".join(loc), "reason": str(err.get("msg", "invalid"))})
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        details = [{"field": exc.field, "reason": exc.message}] if exc.field else []
        return _response(exc.http_status, exc.code, exc.message, details, exc.http_headers())

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return _response(400, "malformed_json", "request body is not valid JSON")
        return _response(422, "validation_error", "request is invalid", _validation_details(errors))

    @app.exception_handler(ValidationError)
    async def _model_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        return _response(
            422, "validation_error", "request is invalid", _validation_details(list(exc.errors()))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return _response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(DuplicateKey)
    async def _duplicate(_: Request, exc: DuplicateKey) -> JSONResponse:
        fields = [k for k in exc.key if k != "tenant_id"]
        return _response(409, "already_exists", f"already exists: {', '.join(fields)}")

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(_: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return _response(409, "concurrent_change", "changed by someone else; reload and retry")

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _response(404, "not_found", "not found")

    @app.exception_handler(BadCursor)
    async def _bad_cursor(_: Request, exc: BadCursor) -> JSONResponse:
        return _response(400, "bad_cursor", "invalid page cursor")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _response(500, "internal_error", "internal error; it has been logged")
