"""Reading a manifest: each provider's layout (press site, TMDB, Sling, e-mail) and rows
streamed from a generator."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

from smartcrop.ingestion.manifests import NO_HEADER_ROW, open_manifest
from tests.ingestion.manifests.reading import (
    EMAIL,
    NBCU,
    SLING,
    TMDB,
    read_failure,
    read_rows,
)
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx


def test_press_site_rules(tmp_path: Path) -> None:
    padded = [f"  {header} " for header in PRESS_HEADERS] + [" Internal Code "]
    path = write_xlsx(
        tmp_path / "NBCU_rules.xlsx",
        [
            ["NBCU_rules.xlsx export"],  # row 1: a title above the table
            [],  # row 2
            padded,  # row 3: the header, padded, plus an extra column
            press_row(12345.0, Season=2.0, Episode=7, Image_Type="Key Art") + ["X1"],
            [],  # row 5: wholly empty, skipped without a report
            press_row("EP1", Image_Type="Thumbnail", Language="Deutsch", Width=1600.0),
            press_row("EP2", Image_URL="ftp://press.example.com/a.jpg"),
            press_row("EP3", Width="abc", Height=12.5),
            press_row("EP4", Width=0, Height=-5),
            press_row(None, Image_URL="http://x.example.com/b.jpg"),
            press_row("EP5", Image_URL=None),
            press_row("EP6", Language="eng", Rights="Editorial only", Notes="tight"),
            press_row("EP6", Language="eng", Rights="Editorial only", Notes="tight"),
            [None] * 12 + ["only an extra column"],
        ],
    )
    manifest = open_manifest(path, NBCU)
    assert manifest.header_row == 3
    assert manifest.headers == tuple(PRESS_HEADERS) + ("Internal Code",)
    rows = list(manifest.rows())

    assert [row.row_number for row in rows] == [4, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert {row.provider_name for row in rows} == {"NBCU"}
    first = rows[0]
    assert (first.program_id, first.season, first.episode) == ("12345", "2", "7")
    assert (first.image_type, first.image_type_id) == ("Key Art", 1)
    assert (first.rights, first.notes, first.source_ref) == (
        "Provider Supplied",
        "",
        None,
    )
    assert (first.width, first.height, first.reject_reason) == (None, None, None)

    unknown = rows[1]
    assert (unknown.image_type, unknown.image_type_id) == ("Thumbnail", None)
    assert (unknown.language, unknown.language_id) == ("Deutsch", None)
    assert (unknown.width, unknown.reject_reason) == (1600, None)

    assert [row.reject_reason for row in rows[2:7]] == [
        "image URL is not http(s)",
        "width is not a positive whole number; height is not a positive whole number",
        "width is not a positive whole number; height is not a positive whole number",
        "missing program id",
        "missing image URL",
    ]
    # Duplicates are emitted as they are: counting them is the database's job.
    assert (rows[7].row_number, rows[8].row_number) == (12, 13)
    assert rows[7] == dataclasses.replace(rows[8], row_number=12)
    assert (rows[7].language_id, rows[7].rights, rows[7].notes) == (
        1,
        "Editorial only",
        "tight",
    )
    # A value only in an extra column makes the row non-empty, and it is rejected.
    assert rows[9].reject_reason == "missing program id; missing image URL"


def test_rows_stream_from_a_generator_and_restart(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "gen.xlsx", [PRESS_HEADERS] + [press_row(f"SH{i}") for i in range(5)]
    )
    manifest = open_manifest(path, NBCU)
    stream = manifest.rows()
    assert inspect.isgenerator(stream)
    assert next(stream).program_id == "SH0"
    assert [row.program_id for row in manifest.rows()] == [f"SH{i}" for i in range(5)]


def test_tmdb_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "TMDB_1.xlsx",
        [
            ["tmdb_id", "tivo_program_id", "title", "image_type", "iso_639_1"]
            + ["file_path", "width", "height"],
            [646266.0, 812640864.0, "Court", "still", "fr", "/abc.jpg", 1280.0, 720.0],
            [5.0, "MV1", "x", "backdrop", "xx", "def.jpg", None, None],
            [6, None, "x", None, None, "/y.jpg", None, None],
            [7, "MV2", "x", None, None, None, None, None],
        ],
    )
    rows = read_rows(path, TMDB)
    assert rows[0].program_id == "812640864"
    assert rows[0].source_ref == "646266"
    assert rows[0].image_url == "https://image.tmdb.org/t/p/original/abc.jpg"
    assert (rows[0].image_type_id, rows[0].language_id) == (4, 3)
    assert (rows[0].width, rows[0].height, rows[0].provider_name) == (1280, 720, "TMDB")
    assert rows[1].image_url == "https://image.tmdb.org/t/p/original/def.jpg"
    assert (rows[1].image_type_id, rows[1].language_id) == (3, 8)
    assert rows[2].reject_reason == "missing program id"
    assert rows[3].reject_reason == "missing image URL"


def test_sling_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "SLING_1.xlsx",
        [
            ["ASSET_ID", "PROGRAM_ID", "SERIES_NAME", "EPISODE_NAME", "IMAGE_LINK"]
            + ["IMAGE_TYPE", "LANG", "IMG_W", "IMG_H"],
            [
                "A1",
                "  EP9 ",
                "Zoë",
                "Ep",
                "https://s/0.png",
                "STILL",
                "POR",
                1920.0,
                1080,
            ],
        ],
    )
    (row,) = read_rows(path, SLING)
    assert (row.program_id, row.source_ref, row.program_title, row.episode_title) == (
        "EP9",
        "A1",
        "Zoë",
        "Ep",
    )
    assert (row.image_type_id, row.language_id, row.width, row.height) == (
        4,
        5,
        1920,
        1080,
    )
    assert row.rights == "Provider Supplied"


def test_email_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "EMAIL_1.xlsx",
        [
            ["from a partner"],
            ["ProgramID", "Title", "ImageURL", "ImageType", "Language", "Notes"]
            + ["SubmittedBy"],
            ["SH1", "T", "http://i/1.jpeg", "banner", "Italian", "sent", "ops@x.org"],
        ],
    )
    (row,) = read_rows(path, EMAIL)
    assert (row.row_number, row.program_id, row.image_url) == (
        3,
        "SH1",
        "http://i/1.jpeg",
    )
    assert (row.image_type_id, row.language_id, row.notes, row.source_ref) == (
        2,
        6,
        "sent",
        "ops@x.org",
    )
    # The press-site headers do not make an email manifest.
    press = write_xlsx(tmp_path / "EMAIL_2.xlsx", [PRESS_HEADERS, press_row("SH1")])
    assert read_failure(press, EMAIL).kind == NO_HEADER_ROW
