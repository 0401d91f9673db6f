"""The lookup tables as the API lists them (contract 4.3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

LOOKUPS: dict[str, tuple[str, str, str]] = {
    "image_type": ("smartcrop_imagetype_lookup", "title", "Title"),
    "image_language": ("smartcrop_imagelanguage_lookup", "title", "Title"),
    "reject_reason": ("smartcrop_rejectreason_lookup", "reason", "Reason"),
    "aspect_ratio": ("smartcrop_aspectratio_lookup", "title", "Title"),
}


def lookup_rows(session: Session, kind: str) -> list[dict[str, Any]]:
    """One lookup table's rows as ``{"Id", "Title"|"Reason"}``, ordered by id.

    Read from the database, not the seed constants: the rows there are what the
    foreign keys accept.
    """
    table, column, name = LOOKUPS[kind]
    rows = session.execute(
        text(f"SELECT id, {column} FROM {table} ORDER BY id")  # noqa: S608
    )
    return [{"Id": row[0], name: row[1]} for row in rows]
