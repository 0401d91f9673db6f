"""The response envelope every JSON answer of the contract is wrapped in.

The routes' response models are named subclasses of ``Envelope[X]`` (and ``Page[X]``),
one per ``Data`` type, in the resource's module of ``api/schemas/``: a subclass gives
the schema its own name in the OpenAPI document (``ProgrammeEnvelope``), where
``Envelope[Programme | None]`` itself would be ``Envelope_Union_Programme__NoneType__``
in every generated client.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

T = TypeVar("T")

# What a route returns: the envelope as a JSON object, which FastAPI validates against
# the route's response model (so its values are checked there, not here).
JsonObject = dict[str, Any]


class Envelope(BaseModel, Generic[T]):
    """A success: ``IsSuccess`` true, ``StatusCode`` the HTTP status, ``Data`` the
    answer (its type per route)."""

    IsSuccess: Literal[True]
    StatusCode: int
    Message: str
    Data: T


class EmptyEnvelope(Envelope[None]):
    """A success with ``Data`` null: the action is done, ``Message`` says which."""


class Page(BaseModel, Generic[T]):
    """One page of a paged list (contract 4, "Paged lists")."""

    Items: list[T]
    PageNumber: int = Field(description="From 1")
    PageSize: int
    TotalCount: int = Field(description="Items over every page")
    TotalPages: int


def ok(data: Any = None, message: str = "Success") -> JsonObject:
    return {"IsSuccess": True, "StatusCode": 200, "Message": message, "Data": data}


def page(items: list[Any], page_number: int, page_size: int, total: int) -> JsonObject:
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

    IsSuccess: Literal[False]
    StatusCode: int = Field(description="The HTTP status again")
    Message: str = Field(description="Why, in words a person can act on")
    Data: None


# Declared on every route, so the OpenAPI document says what errors look like: 400,
# 401, 403, 404, 409, 413, 422 and 429 all answer the envelope (api/errors.py), and
# 503 while the database is unreachable.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Refused, with the reason"},
    503: {"model": ErrorEnvelope, "description": "The database is unavailable"},
}
