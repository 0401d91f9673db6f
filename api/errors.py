"""Error handlers: every refusal answers in the envelope, never with a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.envelope import error_response
from smartcrop import errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.SmartcropError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyRequests: 429,
    errors.ServiceUnavailable: 503,
}

_DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Not authenticated: send a valid bearer token",
    403: "You do not have permission to do this",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    422: "Malformed request",
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for item in exc.errors()[:5]:
        loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {item.get('msg', 'invalid')}")
    return "Malformed request: " + "; ".join(parts)


def validation_status(exc: RequestValidationError) -> int:
    """422 when only the JSON body is malformed, else 400.

    The contract keeps 422 for malformed bodies; a missing or malformed query (or
    path, header) parameter is bad input, 400, as the routes that parse their
    parameters by hand (api/query.py) already answer. Deciding it here, where
    FastAPI's own validation lands, keeps every route alike: a route that declares a
    typed or constrained ``Query`` answers the same code as one that does not.
    """
    errors_ = exc.errors()
    if errors_ and all(item.get("loc", ("body",))[:1] == ("body",) for item in errors_):
        return 422
    return 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.SmartcropError)
    async def _domain(_: Request, exc: errors.SmartcropError) -> JSONResponse:
        status = next(
            (s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400
        )
        response = error_response(status, exc.message)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else None
        if not message or message in ("Not Found", "Method Not Allowed"):
            message = _DEFAULT_MESSAGES.get(exc.status_code, "Request refused")
        response = error_response(exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_status(exc), _describe_validation(exc))

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return error_response(503, "The database is unavailable; try again shortly")

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        # Never echo SQL or driver text: it may hold data or the schema.
        log.exception("database error")
        return error_response(500, "Internal error; it has been logged")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "Internal error; it has been logged")
