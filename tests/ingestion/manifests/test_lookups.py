from __future__ import annotations

import pytest

from smartcrop import lookups
from smartcrop.lookups import image_type_id, language_id


def test_tables_hold_the_contract_rows_in_id_order() -> None:
    assert [tuple(row) for row in lookups.IMAGE_TYPES] == [
        (1, "Poster"),
        (2, "Banner"),
        (3, "Backdrop"),
        (4, "Episodic Still"),
        (5, "Logo"),
        (6, "Cast"),
    ]
    assert [tuple(row) for row in lookups.IMAGE_LANGUAGES] == [
        (1, "English"),
        (2, "Spanish"),
        (3, "French"),
        (4, "German"),
        (5, "Portuguese"),
        (6, "Italian"),
        (7, "Japanese"),
        (8, "No Language"),
    ]
    assert [tuple(row) for row in lookups.REJECT_REASONS] == [
        (1, "Low resolution"),
        (2, "Watermark or text overlay"),
        (3, "Wrong programme"),
        (4, "Inappropriate content"),
        (5, "Broken image link"),
        (6, "Duplicate image"),
        (7, "Other"),
    ]
    assert [tuple(row) for row in lookups.ASPECT_RATIOS] == [
        (1, "16x9", 16, 9),
        (2, "4x3", 4, 3),
        (3, "3x4", 3, 4),
        (4, "2x3", 2, 3),
        (5, "1x1", 1, 1),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("poster", 1),
        ("Key Art", 1),
        ("KEY ART", 1),
        ("key_art", 1),
        ("  key   art ", 1),
        ("banner", 2),
        ("BANNER", 2),
        ("backdrop", 3),
        ("Background", 3),
        ("still", 4),
        ("STILL", 4),
        ("Episodic", 4),
        ("Episodic Still", 4),
        ("logo", 5),
        ("Cast", 6),
        ("Poster", 1),
    ],
)
def test_image_types_map_case_insensitively(value: str, expected: int) -> None:
    assert image_type_id(value) == expected


@pytest.mark.parametrize(
    "value", [None, "", "   ", "thumbnail", "posters", "key", "art", "1", "Still Life"]
)
def test_unknown_image_types_are_never_guessed(value: str | None) -> None:
    assert image_type_id(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", 1),
        ("eng", 1),
        ("English", 1),
        ("ENG", 1),
        (" english ", 1),
        ("es", 2),
        ("spa", 2),
        ("Spanish", 2),
        ("fr", 3),
        ("fre", 3),
        ("fra", 3),
        ("FRA", 3),
        ("French", 3),
        ("de", 4),
        ("ger", 4),
        ("deu", 4),
        ("German", 4),
        ("pt", 5),
        ("POR", 5),
        ("Portuguese", 5),
        ("it", 6),
        ("ita", 6),
        ("Italian", 6),
        ("ja", 7),
        ("jpn", 7),
        ("Japanese", 7),
        ("No Language", 8),
        ("no language", 8),
        ("zxx", 8),
        ("xx", 8),
        ("en-US", 1),
        ("pt_BR", 5),
        ("es-419", 2),
    ],
)
def test_languages_map_by_iso_code_or_english_name(value: str, expected: int) -> None:
    assert language_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "Deutsch", "Español", "und", "mul", "none", "Klingon", "e", "enx", "zz"],
)
def test_unknown_languages_are_never_guessed(value: str | None) -> None:
    assert language_id(value) is None


def test_title_of() -> None:
    assert lookups.title_of(lookups.IMAGE_TYPES, 4) == "Episodic Still"
    assert lookups.title_of(lookups.IMAGE_LANGUAGES, 9) is None
    assert lookups.title_of(lookups.IMAGE_LANGUAGES, None) is None
