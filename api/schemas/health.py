"""``GET /health`` (contract 4.8): plain JSON, no envelope."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Healthy(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class Unhealthy(BaseModel):
    """503: the database does not answer."""

    status: Literal["error"]
    database: Literal["unavailable"]
