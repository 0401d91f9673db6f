"""A base for PascalCase request bodies that keeps bad input a 422, never a 500.

PostgreSQL refuses NUL characters in text and integers beyond its column types; such
values would otherwise reach the database and fail there as an internal error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1


def _check(value: Any, where: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{where} must not contain NUL characters")
    out_of_range = isinstance(value, int) and not INT4_MIN <= value <= INT4_MAX
    if out_of_range and not isinstance(value, bool):
        raise ValueError(f"{where} is out of range")
    if isinstance(value, dict):
        for key, item in value.items():
            _check(item, str(key))
    elif isinstance(value, list):
        for item in value:
            _check(item, where)


class Body(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check(data, "body")
        return data
