"""GET /health: is the service up and can it reach its database (contract 4.8)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.schemas.health import Healthy, Unhealthy

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get(
    "/health",
    # Documentation only: the route answers JSONResponses, sent as they are. The 503
    # is this plain JSON, not the envelope the app declares for every other route.
    responses={
        200: {"model": Healthy, "description": "The service and its database answer"},
        503: {"model": Unhealthy, "description": "The database does not answer"},
    },
)
def health(request: Request) -> JSONResponse:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unavailable (%s)", type(exc).__name__)
        return JSONResponse(
            status_code=503, content={"status": "error", "database": "unavailable"}
        )
    return JSONResponse(content={"status": "ok", "database": "ok"})
