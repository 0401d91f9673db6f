"""What a manifest layout declares: its headers and which column feeds which field.

Each layout module (press_site, tmdb, sling, email) holds one ``Layout``; the reader and
the row rules only ever look at these declarations, never at a layout's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The fields of the common row that a column can feed (see rows.ParsedRow).
SOURCE_FIELDS: tuple[str, ...] = (
    "program_id",
    "program_title",
    "episode_title",
    "season",
    "episode",
    "image_url",
    "image_type",
    "language",
    "width",
    "height",
    "rights",
    "notes",
    "source_ref",
)


def as_given(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # ParsedRow field -> header of the column that feeds it.
    columns: Mapping[str, str]
    # Turns the (trimmed, non-empty) image column text into the image URL.
    image_url: Callable[[str], str] = field(default=as_given)

    def __post_init__(self) -> None:
        # A layout is code, so a slip in one is a programming error caught at import.
        headers = set(self.required) | set(self.optional)
        unknown_fields = set(self.columns) - set(SOURCE_FIELDS)
        unknown_headers = set(self.columns.values()) - headers
        if unknown_fields or unknown_headers:
            raise ValueError(
                f"layout {self.name}: unknown fields {sorted(unknown_fields)} "
                f"or headers {sorted(unknown_headers)}"
            )
        for needed in ("program_id", "image_url"):
            if self.columns.get(needed) not in self.required:
                raise ValueError(
                    f"layout {self.name}: {needed} needs a required header"
                )
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    @property
    def headers(self) -> tuple[str, ...]:
        return self.required + self.optional
