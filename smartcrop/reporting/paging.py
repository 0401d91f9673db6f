"""Pages of the dashboard and the report: numbered from 1, sizes the API accepts."""

from __future__ import annotations

from dataclasses import dataclass

from smartcrop.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Paging:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InvalidInput("pageNumber must be 1 or more")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size
