"""The common row every layout is turned into, and the rules that accept or reject it.

Contract section 5: text is trimmed, ids may arrive as numbers, missing rights and
notes get their defaults, and a row without a programme id or an image URL, with a
non-http(s) URL, or with a width/height that is not a positive whole number is rejected
with a reason while the rest of its file is ingested.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from smartcrop.lookups import image_type_id, language_id
from smartcrop.manifests.layout import Layout

RIGHTS_NAME_DEFAULT = "Provider Supplied"
IMAGE_NOTES_DEFAULT = ""

MISSING_PROGRAM_ID = "missing program id"
MISSING_IMAGE_URL = "missing image URL"
IMAGE_URL_NOT_HTTP = "image URL is not http(s)"
UNREADABLE_ROW = "row has a cell that cannot be read"
NOT_POSITIVE_WHOLE = "is not a positive whole number"
TOO_LARGE = "is too large"

# Widths and heights land in 32-bit integer columns; a larger value would fail the
# whole file's load instead of one row.
MAX_DIMENSION = 2_147_483_647

# Character lengths of the columns these fields land in: a longer value would fail
# the whole file's COPY, so its row is rejected instead (the value kept, cut to fit).
MAX_LENGTHS = {"program_id": 64, "season": 32, "episode": 32}
TOO_LONG = "is too long"

# A value as python-calamine hands it over (empty cells arrive as "").
Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None

_WHOLE_NUMBER_TEXT = re.compile(r"\+?(\d+)(?:\.0*)?")


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row_number: int  # 1-based row of the sheet, as the provider sees it in Excel
    provider_name: str
    program_id: str | None
    program_title: str | None
    episode_title: str | None
    season: str | None
    episode: str | None
    image_url: str | None
    image_type: str | None  # the provider's text, kept even when it maps to no id
    image_type_id: int | None
    language: str | None
    language_id: int | None
    width: int | None
    height: int | None
    rights: str
    notes: str
    source_ref: str | None  # the provider's own id: tmdb_id, ASSET_ID or SubmittedBy
    reject_reason: str | None  # None: the row is ingested

    @property
    def rejected(self) -> bool:
        return self.reject_reason is not None


def cell_text(value: Cell | object) -> str | None:
    """A cell as trimmed text, or None when it is blank.

    Whole numbers lose their ".0" (Excel stores every number as a float, so an id typed
    as 12345 arrives as 12345.0); dates become ISO text. Any other type becomes its text
    rather than an error: an odd cell must not stop a file.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"  # as Excel shows it
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    # A NUL (Excel's "_x0000_") cannot be stored in PostgreSQL text and would fail the
    # whole file's load; it carries no meaning in a manifest.
    text = text.replace("\x00", "").strip()
    return text or None


def parse_dimension(value: Cell) -> tuple[int | None, str | None]:
    """(pixels, None), (None, None) when blank, or (None, problem) when invalid."""
    if value is None:
        return None, None
    if isinstance(value, bool):  # before int: True is an int to Python
        return None, NOT_POSITIVE_WHOLE
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None, None
        whole = _WHOLE_NUMBER_TEXT.fullmatch(text)
        if whole is not None:
            number = int(whole.group(1))
    # Anything else (a date, a time) is not a number of pixels.
    if number is None or number <= 0:
        return None, NOT_POSITIVE_WHOLE
    if number > MAX_DIMENSION:
        return None, TOO_LARGE
    return number, None


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def parse_row(
    row_number: int, provider_name: str, layout: Layout, cells: Mapping[str, Cell]
) -> ParsedRow:
    """One sheet row, given as ParsedRow field -> raw cell, checked by the rules."""
    texts = {name: cell_text(value) for name, value in cells.items()}
    texts.pop("width", None)
    texts.pop("height", None)

    raw_url = texts.get("image_url")
    image_url = layout.image_url(raw_url) if raw_url is not None else None
    width, width_problem = parse_dimension(cells.get("width"))
    height, height_problem = parse_dimension(cells.get("height"))

    # Every problem is named, so that the provider fixes a row in one round.
    reasons: list[str] = []
    if texts.get("program_id") is None:
        reasons.append(MISSING_PROGRAM_ID)
    too_long = [
        name
        for name, limit in MAX_LENGTHS.items()
        if len(texts.get(name) or "") > limit
    ]
    if "program_id" in too_long:
        reasons.append(
            f"program id {TOO_LONG} (over {MAX_LENGTHS['program_id']} characters)"
        )
    if image_url is None:
        reasons.append(MISSING_IMAGE_URL)
    elif not is_http_url(image_url):
        reasons.append(IMAGE_URL_NOT_HTTP)
    if width_problem is not None:
        reasons.append(f"width {width_problem}")
    if height_problem is not None:
        reasons.append(f"height {height_problem}")
    for name in too_long:
        if name != "program_id":
            reasons.append(f"{name} {TOO_LONG} (over {MAX_LENGTHS[name]} characters)")
        texts[name] = (texts[name] or "")[: MAX_LENGTHS[name]]

    image_type = texts.get("image_type")
    language = texts.get("language")
    return ParsedRow(
        row_number=row_number,
        provider_name=provider_name,
        program_id=texts.get("program_id"),
        program_title=texts.get("program_title"),
        episode_title=texts.get("episode_title"),
        season=texts.get("season"),
        episode=texts.get("episode"),
        image_url=image_url,
        image_type=image_type,
        image_type_id=image_type_id(image_type),
        language=language,
        language_id=language_id(language),
        width=width,
        height=height,
        rights=texts.get("rights") or RIGHTS_NAME_DEFAULT,
        notes=texts.get("notes") or IMAGE_NOTES_DEFAULT,
        source_ref=texts.get("source_ref"),
        reject_reason="; ".join(reasons) if reasons else None,
    )


def unreadable_row(row_number: int, provider_name: str) -> ParsedRow:
    """A row the workbook library could not convert (e.g. a duration-formatted cell
    beyond Python's timedelta): recorded, never ingested."""
    return ParsedRow(
        row_number=row_number,
        provider_name=provider_name,
        program_id=None,
        program_title=None,
        episode_title=None,
        season=None,
        episode=None,
        image_url=None,
        image_type=None,
        image_type_id=None,
        language=None,
        language_id=None,
        width=None,
        height=None,
        rights=RIGHTS_NAME_DEFAULT,
        notes=IMAGE_NOTES_DEFAULT,
        source_ref=None,
        reject_reason=UNREADABLE_ROW,
    )
