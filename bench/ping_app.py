"""The bare FastAPI app that api_read measures as its baseline: ``GET /ping``.

Served by the same uvicorn, with the same number of workers, as the project's API:
``python -m uvicorn bench.ping_app:app --workers N``. It answers the same envelope
shape, without authentication or a database, so the difference is what the
project's read path costs.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(title="bench ping")


@app.get("/ping")
def ping() -> dict:
    return {"IsSuccess": True, "StatusCode": 200, "Message": "Success", "Data": "pong"}
