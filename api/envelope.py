"""The response envelope every JSON answer of the contract is wrapped in."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    IsSuccess: bool = True
    StatusCode: int = 200
    Message: str = "Success"
    Data: T | None = None


class Page(BaseModel, Generic[T]):
    Items: list[T] = Field(default_factory=list)
    PageNumber: int = 1
    PageSize: int = 20
    TotalCount: int = 0
    TotalPages: int = 0


def ok(data: Any = None, message: str = "Success") -> dict[str, Any]:
    return {"IsSuccess": True, "StatusCode": 200, "Message": message, "Data": data}


def page(items: list[Any], page_number: int, page_size: int, total: int) -> dict:
    pages = (total + page_size - 1) // page_size if page_size else 0
    return {
        "Items": items,
        "PageNumber": page_number,
        "PageSize": page_size,
        "TotalCount": total,
        "TotalPages": pages,
    }


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "IsSuccess": False,
            "StatusCode": status,
            "Message": message,
            "Data": None,
        },
    )


class ErrorEnvelope(BaseModel):
    """Every refusal: the envelope with ``IsSuccess`` false and ``Data`` null."""

    IsSuccess: bool = False
    StatusCode: int
    Message: str
    Data: None = None


# Declared on every route, so the OpenAPI document says what errors look like: 400,
# 401, 403, 404, 409, 413, 422 and 429 all answer the envelope (api/errors.py), and
# 503 while the database is unreachable.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Refused, with the reason"},
    503: {"model": ErrorEnvelope, "description": "The database is unavailable"},
}
