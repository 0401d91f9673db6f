"""Why a whole manifest file is not parsed (contract section 5).

The kind is what gets recorded as the file's failure reason, so it is one of three fixed
strings; the message says what was found, for the person who fixes the file.
"""

from __future__ import annotations

NOT_READABLE = "not a readable workbook"
NO_HEADER_ROW = "no header row"
NO_PROVIDER_PREFIX = "no provider prefix"

FAILURE_KINDS: frozenset[str] = frozenset(
    {NOT_READABLE, NO_HEADER_ROW, NO_PROVIDER_PREFIX}
)


class ManifestError(Exception):
    """A manifest file that cannot be parsed at all; nothing of it may be ingested."""

    def __init__(self, kind: str, message: str) -> None:
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown manifest failure kind {kind!r}")
        super().__init__(kind, message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
