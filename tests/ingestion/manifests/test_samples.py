"""The sample delivery in samples/manifests parses to what expected.json says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    ManifestError,
    ParsedRow,
    open_manifest,
    require_provider,
)

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "manifests"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Parse copies: the samples are shared and must never be touched.
    folder = tmp_path_factory.mktemp("samples")
    for sample in SAMPLES.iterdir():
        shutil.copy2(sample, folder / sample.name)
    return folder


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def _parse(path: Path) -> list[ParsedRow]:
    match = require_provider(path.name, DEFAULT_PROVIDER_FILE_TYPE)
    return list(open_manifest(path, match).rows())


def test_every_sample_is_listed(delivery: Path, expected: dict) -> None:
    listed = set(expected["files"]) | set(expected["failed"])
    assert {path.name for path in delivery.glob("*.xlsx")} == listed


def test_failed_files_fail_with_the_expected_kind(
    delivery: Path, expected: dict
) -> None:
    for name, kind in expected["failed"].items():
        with pytest.raises(ManifestError) as caught:
            _parse(delivery / name)
        assert caught.value.kind == kind, name


def test_rows_rejected_and_deduplicated_as_expected(
    delivery: Path, expected: dict
) -> None:
    # The oracle: (ProgramId, image URL) is unique across files taken in the listed
    # order, which is what the database does on ingest.
    seen: set[tuple[str | None, str | None]] = set()
    total_new = 0
    for name, outcome in expected["files"].items():
        rows = _parse(delivery / name)
        good = [row for row in rows if row.reject_reason is None]
        rejected = [row for row in rows if row.reject_reason is not None]
        assert len(rejected) == outcome["rejected_rows"], name
        assert {row.provider_name for row in rows} == {outcome["provider"]}, name
        new = 0
        for row in good:
            assert row.program_id and row.image_url, name
            key = (row.program_id, row.image_url)
            if key not in seen:
                seen.add(key)
                new += 1
        assert (new, len(good) - new) == (
            outcome["ingested_items"],
            outcome["duplicates"],
        ), name
        total_new += new
    assert total_new == expected["total_new_items"]


def test_sample_rows_carry_the_mapped_values(delivery: Path) -> None:
    nbcu = _parse(delivery / "NBCU_20261120.xlsx")
    assert [row.reject_reason for row in nbcu if row.reject_reason] == [
        "missing program id",
        "image URL is not http(s)",
        "width is not a positive whole number",
        "missing image URL",
        "height is not a positive whole number",
    ]
    assert [row.row_number for row in nbcu if row.reject_reason] == [45, 46, 47, 48, 49]
    assert 24 not in {row.row_number for row in nbcu}  # the blank row

    disney = _parse(delivery / "DISNEY_20261120.xlsx")[0]  # padded headers
    assert (disney.row_number, disney.program_id, disney.season) == (
        4,
        "SH134906260170",
        "1",
    )
    assert (disney.image_type_id, disney.language_id, disney.rights) == (
        2,
        4,
        "NBC Universal",
    )

    tmdb = _parse(delivery / "TMDB_20261120.xlsx")
    assert tmdb[0].program_id == "812640864"  # a number in the sheet
    assert tmdb[0].image_url == (
        "https://image.tmdb.org/t/p/original/mzNruxXqVd17CGQ3pH1Txxwjufo.jpg"
    )
    assert tmdb[0].source_ref == "646266"

    sling = _parse(delivery / "SLING_20261120.xlsx")[0]
    assert (sling.program_id, sling.source_ref, sling.language_id) == (
        "EP919721407408",
        "A000000",
        5,
    )
    assert all(row.image_type_id is not None for row in nbcu if not row.reject_reason)


def test_parsing_leaves_the_files_unchanged(delivery: Path) -> None:
    for path in delivery.iterdir():
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes()
