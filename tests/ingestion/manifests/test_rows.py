from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from smartcrop.ingestion.manifests import LAYOUTS, ParsedRow
from smartcrop.ingestion.manifests.rows import (
    cell_text,
    is_http_url,
    parse_dimension,
    parse_row,
)
from smartcrop.ingestion.manifests.tmdb import tmdb_image_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\u00a0SH1\u00a0", "SH1"),
        ("  EP919721407408 ", "EP919721407408"),
        (12345.0, "12345"),
        (12345, "12345"),
        (812640864.0, "812640864"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (True, "TRUE"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (dt.time(1, 2), "01:02:00"),
        (dt.timedelta(days=1), "1 day, 0:00:00"),
        ("a\x00b", "ab"),
        ("Zoë 東京", "Zoë 東京"),
    ],
)
def test_cell_text(value: object, expected: str | None) -> None:
    assert cell_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("  ", (None, None)),
        (1600.0, (1600, None)),
        (1600, (1600, None)),
        ("1600", (1600, None)),
        (" 1600.0 ", (1600, None)),
        (1, (1, None)),
        (2_147_483_647, (2_147_483_647, None)),
        (0, (None, "is not a positive whole number")),
        (0.0, (None, "is not a positive whole number")),
        (-5.0, (None, "is not a positive whole number")),
        (12.5, (None, "is not a positive whole number")),
        ("12.5", (None, "is not a positive whole number")),
        ("abc", (None, "is not a positive whole number")),
        ("wide", (None, "is not a positive whole number")),
        ("1,600", (None, "is not a positive whole number")),
        ("1_600", (None, "is not a positive whole number")),
        ("-5", (None, "is not a positive whole number")),
        (float("nan"), (None, "is not a positive whole number")),
        (float("inf"), (None, "is not a positive whole number")),
        (True, (None, "is not a positive whole number")),
        (dt.date(2024, 1, 2), (None, "is not a positive whole number")),
        (3e9, (None, "is too large")),
    ],
)
def test_parse_dimension(value: object, expected: tuple) -> None:
    assert parse_dimension(value) == expected


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://x.example.com/a.jpg", True),
        ("http://x.example.com/a.jpg", True),
        ("HTTPS://X.EXAMPLE.COM/a.jpg", True),
        ("ftp://press.example.com/a.jpg", False),
        ("file:///etc/passwd", False),
        ("https://", False),
        ("x.example.com/a.jpg", False),
        ("javascript:alert(1)", False),
        ("http://[::1", False),
    ],
)
def test_is_http_url(url: str, ok: bool) -> None:
    assert is_http_url(url) is ok


def test_tmdb_url_is_the_base_plus_the_path() -> None:
    base = "https://image.tmdb.org/t/p/original"
    assert tmdb_image_url("/abc.jpg") == base + "/abc.jpg"
    assert tmdb_image_url("abc.jpg") == base + "/abc.jpg"
    full = "https://image.tmdb.org/t/p/w500/abc.jpg"
    assert tmdb_image_url(full) == full
    assert tmdb_image_url("ftp://x/abc.jpg") == "ftp://x/abc.jpg"


def _press(**cells: object) -> ParsedRow:
    return parse_row(7, "NBCU", LAYOUTS["press_site"], cells)


def test_a_good_row() -> None:
    row = _press(
        program_id=12345.0,
        program_title=" Night Court ",
        season=2.0,
        episode=3,
        image_url=" https://x.example.com/a.jpg ",
        image_type="Key Art",
        language="eng",
        width=1600.0,
        height="900",
    )
    assert row == ParsedRow(
        row_number=7,
        provider_name="NBCU",
        program_id="12345",
        program_title="Night Court",
        episode_title=None,
        season="2",
        episode="3",
        image_url="https://x.example.com/a.jpg",
        image_type="Key Art",
        image_type_id=1,
        language="eng",
        language_id=1,
        width=1600,
        height=900,
        rights="Provider Supplied",
        notes="",
        source_ref=None,
        reject_reason=None,
    )
    assert not row.rejected


def test_all_problems_of_a_row_are_named_in_order() -> None:
    row = _press(program_id="  ", image_url="ftp://x/a.jpg", width=0, height=-5)
    assert row.reject_reason == (
        "missing program id; image URL is not http(s); "
        "width is not a positive whole number; height is not a positive whole number"
    )
    assert row.rejected
    assert _press(program_id="SH1").reject_reason == "missing image URL"


def test_rights_and_notes_are_kept_when_given() -> None:
    row = _press(
        program_id="SH1",
        image_url="https://x/a",
        rights=" Editorial only ",
        notes="crop tight",
    )
    assert (row.rights, row.notes) == ("Editorial only", "crop tight")


def test_unknown_type_and_language_are_kept_as_text() -> None:
    row = _press(
        program_id="SH1",
        image_url="https://x/a",
        image_type="Thumb",
        language="Deutsch",
    )
    assert (row.image_type, row.image_type_id) == ("Thumb", None)
    assert (row.language, row.language_id) == ("Deutsch", None)
    assert row.reject_reason is None


def test_parsed_rows_are_slotted_and_frozen() -> None:
    row = _press(program_id="SH1", image_url="https://x/a")
    assert not hasattr(row, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.program_id = "other"  # type: ignore[misc]
