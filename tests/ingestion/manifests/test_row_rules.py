"""RowRules (the per-file, fast form of the row rules) against a plain reference.

The reference below is the row rules written the obvious way, one helper call per
cell and urlsplit for every URL: the form they had before they were made fast. Random
rows of awkward cells must come out the same from both, for every layout.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest

from smartcrop.ingestion.manifests import LAYOUTS, Layout, ParsedRow
from smartcrop.ingestion.manifests.rows import (
    IMAGE_NOTES_DEFAULT,
    IMAGE_URL_NOT_HTTP,
    MAX_LENGTHS,
    MISSING_IMAGE_URL,
    MISSING_PROGRAM_ID,
    PARSED_FIELDS,
    RIGHTS_NAME_DEFAULT,
    TOO_LONG,
    RowRules,
    cell_text,
    is_http_url,
    parse_dimension,
    parse_row,
)
from smartcrop.lookups import image_type_id, language_id


def _reference_is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _reference(
    row_number: int, provider: str, layout: Layout, cells: Mapping[str, Any]
) -> ParsedRow:
    texts = {name: cell_text(value) for name, value in cells.items()}
    texts.pop("width", None)
    texts.pop("height", None)
    raw_url = texts.get("image_url")
    image_url = layout.image_url(raw_url) if raw_url is not None else None
    width, width_problem = parse_dimension(cells.get("width"))
    height, height_problem = parse_dimension(cells.get("height"))
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
    elif not _reference_is_http_url(image_url):
        reasons.append(IMAGE_URL_NOT_HTTP)
    if width_problem is not None:
        reasons.append(f"width {width_problem}")
    if height_problem is not None:
        reasons.append(f"height {height_problem}")
    for name in too_long:
        if name != "program_id":
            reasons.append(f"{name} {TOO_LONG} (over {MAX_LENGTHS[name]} characters)")
        texts[name] = (texts[name] or "")[: MAX_LENGTHS[name]]
    return ParsedRow(
        row_number=row_number,
        provider_name=provider,
        program_id=texts.get("program_id"),
        program_title=texts.get("program_title"),
        episode_title=texts.get("episode_title"),
        season=texts.get("season"),
        episode=texts.get("episode"),
        image_url=image_url,
        image_type=texts.get("image_type"),
        image_type_id=image_type_id(texts.get("image_type")),
        language=texts.get("language"),
        language_id=language_id(texts.get("language")),
        width=width,
        height=height,
        rights=texts.get("rights") or RIGHTS_NAME_DEFAULT,
        notes=texts.get("notes") or IMAGE_NOTES_DEFAULT,
        source_ref=texts.get("source_ref"),
        reject_reason="; ".join(reasons) if reasons else None,
    )


URLS = [
    "https://x.example.com/a.jpg",
    "http://127.0.0.1:9/images/1.jpg",
    "HTTPS://X.EXAMPLE.COM/a",
    "https://",
    "https:///a",
    "ftp://x/a",
    "x.example.com/a",
    "//x.example.com/a",
    "http://[::1",
    "http://[::1]/a",
    "https://u:p@h:80/a",
    "https://h:abc/x",
    "https://h:/x",
    "https://h:123456/x",
    "https:// h/x",
    "https://h\t/x",
    "https://h\n",
    "ht\ttps://h/x",
    "http://h?q",
    "http://h#f",
    "http://:80/x",
    "https://_h_/x",
    "https://-/x",
    "https://./x",
    "https://hé.example/x",
    "javascript:alert(1)",
    "/t/abc.jpg",
    "abc.jpg",
    "https://image.tmdb.org/t/p/w500/a.jpg",
]

CELLS: list[Any] = [
    None,
    "",
    " ",
    "\x00",
    " a\x00 ",
    "SH1",
    "  SH2 ",
    "\u00a0SH1\u00a0",
    "Zoë 東京",
    "x" * 70,
    "y" * 33,
    "1" * 65,
    12345.0,
    12.5,
    -3.0,
    0,
    0.0,
    7,
    True,
    False,
    float("nan"),
    float("inf"),
    3e9,
    2147483647.0,
    2147483648.0,
    "1600",
    " 900.0 ",
    "1,600",
    "+5",
    "0",
    "-5",
    dt.date(2024, 1, 2),
    dt.datetime(2024, 1, 2, 3, 4),
    dt.time(1, 2),
    dt.timedelta(days=1),
    "Poster",
    "KEY_ART",
    "key  art",
    "Thumbnail",
    "en",
    "pt_BR",
    "en-US",
    "xx",
    "Deutsch",
    " english ",
    "notes\nmore",
    *URLS,
]

FIELDS = [
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
]


def _same(a: ParsedRow, b: ParsedRow) -> bool:
    # NaN never equals itself; no NaN reaches a ParsedRow, but say so if one does.
    values = [getattr(a, name) for name in PARSED_FIELDS]
    assert not any(isinstance(v, float) and math.isnan(v) for v in values)
    return a == b


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_random_rows_parse_as_the_reference_does(layout: str) -> None:
    rng = random.Random(f"row-rules-{layout}")
    rules_layout = LAYOUTS[layout]
    fed = [name for name in FIELDS if name in rules_layout.columns]
    for _ in range(5000):
        # Some columns missing from the file, in any order.
        names = [name for name in fed if rng.random() < 0.9]
        rng.shuffle(names)
        cells = {name: rng.choice(CELLS) for name in names}
        expected = _reference(3, "P", rules_layout, cells)
        assert _same(parse_row(3, "P", rules_layout, cells), expected), cells


def test_rules_read_cells_by_position_and_ignore_other_columns() -> None:
    layout = LAYOUTS["press_site"]
    rules = RowRules("NBCU", layout, {"program_id": 3, "image_url": 0, "width": 5})
    cells = ["https://x/a.jpg", "stray", None, " SH1 ", "", 1600.0, "more"]
    row = ParsedRow(*rules.parse(9, cells))
    assert (row.program_id, row.image_url, row.width, row.reject_reason) == (
        "SH1",
        "https://x/a.jpg",
        1600,
        None,
    )
    # A row shorter than the columns reads the missing cells as empty.
    short = ParsedRow(*rules.parse(10, ["https://x/b.jpg"]))
    assert short.reject_reason == MISSING_PROGRAM_ID
    assert cells == ["https://x/a.jpg", "stray", None, " SH1 ", "", 1600.0, "more"]


@pytest.mark.parametrize("url", URLS)
def test_the_url_check_answers_as_urlsplit_does(url: str) -> None:
    assert is_http_url(url) is _reference_is_http_url(url)
