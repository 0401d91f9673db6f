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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any
from urllib.parse import urlsplit

from smartcrop.ingestion.manifests.layout import Layout, as_given
from smartcrop.lookups import image_type_id, language_id

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


# "http(s)://host[:port]" followed by a path, query, fragment or nothing: the form of
# nearly every image URL. For such a string urlsplit always finds an http(s) scheme
# and a non-empty hostname (no brackets, no "@", nothing it strips or rejects), so
# the match alone answers; anything else takes urlsplit's answer.
_PLAIN_HTTP_URL = re.compile(
    r"(?i:https?)://[\w.-]+(?::\d{1,5})?(?=[/?#]|\Z)", re.ASCII
)


def is_http_url(url: str) -> bool:
    if _PLAIN_HTTP_URL.match(url) is not None:
        return True
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# ParsedRow's fields in order: the tuples below are ParsedRow(*values) and, after the
# file id, a row of smartcrop_inputfiles.
PARSED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ParsedRow))
REJECT_REASON_AT = PARSED_FIELDS.index("reject_reason")
PROGRAM_ID_AT = PARSED_FIELDS.index("program_id")
IMAGE_URL_AT = PARSED_FIELDS.index("image_url")

# The fields taken from a cell as text, in the order RowRules picks them.
_TEXT_FIELDS: tuple[str, ...] = (
    "program_id",
    "program_title",
    "episode_title",
    "season",
    "episode",
    "image_url",
    "image_type",
    "language",
    "rights",
    "notes",
    "source_ref",
)
_PICKED = (*_TEXT_FIELDS, "width", "height")  # every field a column can feed
_LIMITED = tuple(
    (_TEXT_FIELDS.index(name), name, limit) for name, limit in MAX_LENGTHS.items()
)


def _text(value: Any) -> str | None:
    """cell_text, with what calamine hands over most (str, float, None) first."""
    cls = value.__class__
    if cls is str:
        if "\x00" in value:
            value = value.replace("\x00", "")
        return value.strip() or None
    if cls is float:  # never blank, and nothing to trim or drop
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return None
    return cell_text(value)


class RowRules:
    """parse_row's rules, set up once for a file's layout and column positions.

    A manifest has 100,000 rows of which every one goes through these rules, so the
    per-row work is kept to the row itself: one itemgetter picks the cells, text
    cells take the str path of cell_text, whole-number floats the fast path of
    parse_dimension, and the lookups and the URL check are cached or short-cut for
    the values that repeat. The answers are exactly parse_row's: parse_row is this.
    """

    __slots__ = (
        "_image_url",
        "_need",
        "_pad",
        "_pick_sizes",
        "_pick_texts",
        "provider_name",
    )

    def __init__(
        self, provider_name: str, layout: Layout, positions: Mapping[str, int]
    ) -> None:
        """``positions``: ParsedRow field -> index of its cell in a row's cells;
        fields without a column in the file are left out."""
        self.provider_name = provider_name
        self._image_url = None if layout.image_url is as_given else layout.image_url
        # A field without a column reads a None appended to the row (index -1).
        self._pad = any(name not in positions for name in _PICKED)
        self._need = max(positions.values(), default=-1) + 1
        self._pick_texts = itemgetter(
            *(positions.get(name, -1) for name in _TEXT_FIELDS)
        )
        self._pick_sizes = itemgetter(
            positions.get("width", -1), positions.get("height", -1)
        )

    def parse(self, row_number: int, cells: Sequence[Any]) -> tuple[Any, ...]:
        """One row's cells (a list as calamine gives it) -> ParsedRow's values."""
        if len(cells) < self._need:
            cells = [*cells, *([None] * (self._need - len(cells)))]
        if self._pad:
            cells = [*cells, None]
        # A str cell without a NUL is trimmed right here: a call per cell would cost
        # more than the trimming.
        texts = [
            (
                (value.strip() or None)
                if value.__class__ is str and "\x00" not in value
                else _text(value)
            )
            for value in self._pick_texts(cells)
        ]
        raw_width, raw_height = self._pick_sizes(cells)
        too_long: list[str] = []
        for at, name, limit in _LIMITED:
            value = texts[at]
            if value is not None and len(value) > limit:
                too_long.append(name)
                texts[at] = value[:limit]  # kept, cut to fit (and rejected below)
        (
            program_id,
            program_title,
            episode_title,
            season,
            episode,
            image_url,
            image_type,
            language,
            rights,
            notes,
            source_ref,
        ) = texts
        if image_url is not None and self._image_url is not None:
            image_url = self._image_url(image_url)

        # Positive whole floats (what Excel stores) skip parse_dimension.
        width: int | None
        height: int | None
        if (
            raw_width.__class__ is float
            and 0 < raw_width <= MAX_DIMENSION
            and (raw_width.is_integer())
        ):
            width, width_problem = int(raw_width), None
        else:
            width, width_problem = parse_dimension(raw_width)
        if (
            raw_height.__class__ is float
            and 0 < raw_height <= MAX_DIMENSION
            and (raw_height.is_integer())
        ):
            height, height_problem = int(raw_height), None
        else:
            height, height_problem = parse_dimension(raw_height)

        if image_url is None:
            url_problem: str | None = MISSING_IMAGE_URL
        elif is_http_url(image_url):
            url_problem = None
        else:
            url_problem = IMAGE_URL_NOT_HTTP

        reject_reason = None
        if (
            program_id is None
            or too_long
            or url_problem is not None
            or width_problem is not None
            or height_problem is not None
        ):
            # Every problem is named, so that the provider fixes a row in one round.
            reasons: list[str] = []
            if program_id is None:
                reasons.append(MISSING_PROGRAM_ID)
            if "program_id" in too_long:
                reasons.append(
                    f"program id {TOO_LONG} (over {MAX_LENGTHS['program_id']} "
                    "characters)"
                )
            if url_problem is not None:
                reasons.append(url_problem)
            if width_problem is not None:
                reasons.append(f"width {width_problem}")
            if height_problem is not None:
                reasons.append(f"height {height_problem}")
            for name in too_long:
                if name != "program_id":
                    reasons.append(
                        f"{name} {TOO_LONG} (over {MAX_LENGTHS[name]} characters)"
                    )
            reject_reason = "; ".join(reasons)

        return (
            row_number,
            self.provider_name,
            program_id,
            program_title,
            episode_title,
            season,
            episode,
            image_url,
            image_type,
            image_type_id(image_type),
            language,
            language_id(language),
            width,
            height,
            rights or RIGHTS_NAME_DEFAULT,
            notes or IMAGE_NOTES_DEFAULT,
            source_ref,
            reject_reason,
        )


def parse_row(
    row_number: int, provider_name: str, layout: Layout, cells: Mapping[str, Cell]
) -> ParsedRow:
    """One sheet row, given as ParsedRow field -> raw cell, checked by the rules."""
    names = list(cells)
    rules = RowRules(provider_name, layout, {name: i for i, name in enumerate(names)})
    return ParsedRow(*rules.parse(row_number, [cells[name] for name in names]))


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
