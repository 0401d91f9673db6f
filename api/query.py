"""Query parameters as the legacy frontend sends them.

It sends every parameter, empty ones included (``?programId=&user=``), so an empty
value means "not given" here, and a value that is not what it should be is a 400 in
the envelope (not FastAPI's 422, which the contract keeps for malformed bodies).
"""

from __future__ import annotations

import re
from datetime import date

from smartcrop.errors import InvalidInput
from smartcrop.reporting import DEFAULT_PAGE_SIZE, Paging

INT4_MAX = 2**31 - 1
MAX_TEXT = 200
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def text_param(value: str | None, name: str) -> str | None:
    """The trimmed text, or None when empty; refuses what no column could hold."""
    if value is None:
        return None
    value = value.strip()
    if "\x00" in value or len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is not a valid value")
    return value or None


def int_param(value: str | None, name: str) -> int | None:
    text = text_param(value, name)
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {text!r}") from None
    if not -INT4_MAX <= number <= INT4_MAX:
        raise InvalidInput(f"{name} is out of range")
    return number


def required_int(value: str | None, name: str) -> int:
    number = int_param(value, name)
    if number is None:
        raise InvalidInput(f"{name} is required")
    return number


def date_param(value: str | None, name: str) -> date | None:
    text = text_param(value, name)
    if text is None:
        return None
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput(f"{name} must be a date written YYYY-MM-DD, not {text!r}")


def paging(page_number: str | None, page_size: str | None) -> Paging:
    number = int_param(page_number, "pageNumber")
    size = int_param(page_size, "pageSize")
    return Paging(
        number if number is not None else 1,
        size if size is not None else DEFAULT_PAGE_SIZE,
    )
