"""``POST /filewatcher/run-local?folder_path=``: the API never reads a path outside the
staging root (contract 4.9), whatever the spelling, and hostile files in a legitimate
folder end like they do through the sensor.
tests/api/pipelines/test_ingestion_endpoints.py covers the plain cases ("..", "/etc", a
linked folder); these are the tricky spellings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import corpus
from tests.support.manifest_samples import query

ATTACKS = [
    "%2e%2e",  # taken literally: a folder named "%2e%2e" that does not exist
    "..%2f..%2fetc",
    "./../outside",
    "linked/../../outside",
    "~",
    "~root",
    "/",
    "//etc",
    "\\..\\..\\outside",
    "..\u2215outside",  # a Unicode division slash, not a separator
    "linked",
    "inner/escape",
]


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    return token_for("admin")[1]


@pytest.fixture
def layout(pipeline) -> Path:
    outside = pipeline.tmp / "outside"
    outside.mkdir()
    (outside / "NBCU_secret.xlsx").write_bytes(corpus.good("SH9Z"))
    (pipeline.staging / "linked").symlink_to(outside, target_is_directory=True)
    inner = pipeline.staging / "inner"
    inner.mkdir()
    (inner / "escape").symlink_to(outside, target_is_directory=True)
    return outside


def _assert_nothing_ingested(pipeline) -> None:
    assert query(pipeline.db_url, "SELECT count(*) FROM smartcrop_upload_files") == [
        (0,)
    ]
    assert pipeline.instance.get_runs() == []


@pytest.mark.parametrize("folder_path", ATTACKS)
def test_folder_paths_outside_the_root_are_400(
    client, admin, pipeline, layout: Path, folder_path: str
) -> None:
    absolute = str(pipeline.staging.resolve() / ".." / "outside")
    for spelling in (folder_path, absolute):
        response = client.post(
            "/filewatcher/run-local", params={"folder_path": spelling}, headers=admin
        )
        assert response.status_code == 400, (spelling, response.text)
        assert response.json()["IsSuccess"] is False
    _assert_nothing_ingested(pipeline)
    assert (layout / "NBCU_secret.xlsx").is_file()


@pytest.mark.parametrize(
    "folder_path",
    # Both used to answer 500: Path.resolve raises ValueError on a NUL, is_dir
    # OSError (ENAMETOOLONG) on a name over 255 bytes.
    ["inner\x00/../../outside", "x" * 300],
    ids=["nul", "too-long"],
)
def test_unreadable_folder_paths_are_400_not_500(
    client, admin, pipeline, folder_path: str
) -> None:
    response = client.post(
        "/filewatcher/run-local", params={"folder_path": folder_path}, headers=admin
    )
    assert response.status_code == 400, response.text
    _assert_nothing_ingested(pipeline)


def test_hostile_files_in_a_staging_folder_through_the_api(
    web_client, admin, web_pipeline, layout: Path
) -> None:
    """Names, links and non-files in a legitimate folder: links and non-files are
    left out, every file ends ingested or failed (in runs the Dagster webserver
    launched), and the answer is never a 500."""
    client, pipeline = web_client, web_pipeline
    cases = [
        corpus.by_id(name)
        for name in (
            "non_utf8_name",
            "traversal_in_name",
            "very_long_name",
            "hash_and_question_mark_name",
            "csv_renamed",
            "formula_injection_titles",
            "directory_named_xlsx",
            "fifo_named_xlsx",
            "symlink_to_etc_passwd",
            "symlink_to_manifest_outside",
        )
    ]
    folder = pipeline.staging / "drop"
    for case in cases:
        corpus.create(case, folder)
    response = client.post(
        "/filewatcher/run-local", params={"folder_path": "drop"}, headers=admin
    )
    assert response.status_code == 200, response.text
    files = response.json()["files"]
    expected = {c.shown_name: c.outcome for c in cases if c.outcome != "ignored"}
    assert {name: f["status"] for name, f in files.items()} == expected
    assert response.json()["status"] == "failed"  # the CSV in disguise failed
    stored = query(pipeline.db_url, "SELECT sourcepath FROM smartcrop_upload_files")
    assert not [p for (p,) in stored if "outside" in p or "passwd" in p]
    # The caller's folder is left as it was: files copied, links untouched.
    assert sorted(os.listdir(os.fsencode(folder))) == sorted(
        os.fsencode(c.fs_name) for c in cases
    )
