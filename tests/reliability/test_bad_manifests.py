"""Broken and hostile provider files through the real ingestion.

Every case of ``tests/support/corpus/`` is dropped into the staging folder and
taken by the real local sensor on a real Dagster instance, and the whole corpus is also
given to ``smartcrop ingest`` (the same job, in process). A user must see: no crash,
the file recorded, then either ingested (bad rows rejected with their reasons) or
failed with a reason and moved to quarantine, with nothing of it half-written: no
``smartcrop_inputfiles`` rows of a failed file, no stray ``.part`` file, nothing
written outside the working folders, and the folder emptied of what was taken.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from pipelines.runner import ingest_paths
from tests.support import corpus
from tests.support.corpus import CASES, Case
from tests.support.manifest_samples import query
from tests.support.pipelines import files_of, keys_of

FILE_CASES = [case for case in CASES if case.outcome != "ignored"]


def _age(path: Path, seconds: float = 10) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _records(db_url: str) -> list[tuple]:
    return query(
        db_url,
        "SELECT id, filename, status, error, ingesteditems, rejectedrows"
        " FROM smartcrop_upload_files ORDER BY id",
    )


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


def _assert_outcome(db_url: str, case: Case, record: tuple, work: Path) -> None:
    file_id, filename, status, error, items, rejected = record
    assert filename == case.shown_name
    landed = query(
        db_url,
        "SELECT count(*), count(rejectreason) FROM smartcrop_inputfiles"
        " WHERE uploadfileid = %s",
        (file_id,),
    )[0]
    created = query(
        db_url,
        "SELECT count(*) FROM smartcrop_programimage WHERE uploadfileid = %s",
        (file_id,),
    )[0][0]
    if case.outcome == "failed":
        assert status == "failed", (case.id, status, error)
        assert error.startswith(case.kind), (case.id, error)
        assert landed == (0, 0) and created == 0  # nothing half-ingested
        return
    assert (status, error) == ("ingested", None), (case.id, status, error)
    assert (items, rejected, created) == (case.items, case.rejected, case.items)
    assert landed[1] == case.rejected
    reasons = " | ".join(
        r[0]
        for r in query(
            db_url,
            "SELECT rejectreason FROM smartcrop_inputfiles"
            " WHERE uploadfileid = %s AND rejectreason IS NOT NULL",
            (file_id,),
        )
    )
    for reason in case.reasons:
        assert reason in reasons, (case.id, reasons)
    titles = {
        r[0]
        for r in query(
            db_url,
            "SELECT programtitle FROM smartcrop_programimage WHERE uploadfileid = %s",
            (file_id,),
        )
    }
    for title in case.titles:
        assert title in titles, case.id  # stored verbatim, neutralised on export
    # The fetched copy stays in the working area, in the partition's own folder.
    copies = [p for p in work.rglob("*") if p.is_file()]
    assert copies and all(p.resolve().is_relative_to(work.resolve()) for p in copies)


def _assert_nothing_hostile_stored(db_url: str) -> None:
    text = query(
        db_url,
        "SELECT coalesce(string_agg(concat_ws('|', programtitle, link_object_id,"
        " imageurl, notes, season), '|'), '') FROM smartcrop_inputfiles",
    )[0][0]
    for forbidden in corpus.FORBIDDEN_TEXT:
        assert forbidden not in text


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_hostile_file_in_the_staging_folder(pipeline, case: Case) -> None:
    before = set(pipeline.tmp.iterdir())
    entry = corpus.create(case, pipeline.staging)
    _age(entry)
    target = entry.resolve() if entry.is_symlink() else None
    target_digest = _digest(target) if target and target.is_file() else None

    started = time.monotonic()
    result = pipeline.tick("local_staging_sensor")
    if case.outcome == "ignored":
        # Not a regular file: left alone, never read, never followed.
        assert result.run_requests == []
        assert os.path.lexists(entry)
        if target_digest is not None:
            assert _digest(target) == target_digest
        pipeline.run(result)
        assert _records(pipeline.db_url) == []
        assert not (pipeline.tmp / "work").exists()
        return

    assert files_of(result) == [case.shown_name]
    size = entry.stat().st_size
    [run] = pipeline.run(result)
    assert run.success == (case.outcome == "ingested")
    assert time.monotonic() - started < 60, "a hostile file must not hang ingestion"

    [record] = _records(pipeline.db_url)
    _assert_outcome(pipeline.db_url, case, record, pipeline.tmp / "work")
    _assert_nothing_hostile_stored(pipeline.db_url)
    # The folder empties itself; a failed file is kept, whole, in quarantine.
    assert list(pipeline.staging.iterdir()) == []
    quarantined = list(pipeline.quarantine.iterdir()) if case.kind else []
    if case.outcome == "failed":
        assert [p.stat().st_size for p in quarantined] == [size]
        assert not list((pipeline.tmp / "work").rglob("*.xlsx"))
    # Nothing partial, nothing outside the folders SmartCrop was given.
    assert not [p for p in _tree(pipeline.tmp) if p.name.endswith(".part")]
    new = {p.name for p in set(pipeline.tmp.iterdir()) - before}
    assert new <= {"work", "quarantine", "outside"}, new


def test_one_tick_over_the_whole_corpus_hands_out_every_file(pipeline) -> None:
    """Every hostile entry in the folder at once: none of them stops the tick (each
    file's run is exercised above), and nothing is moved before its run."""
    for case in CASES:
        _age(corpus.create(case, pipeline.staging))
    before = sorted(os.fsencode(p.name) for p in pipeline.staging.iterdir())
    result = pipeline.tick("local_staging_sensor")
    names = sorted(files_of(result))
    assert names == sorted(case.shown_name for case in FILE_CASES)
    assert len(set(keys_of(result))) == len(FILE_CASES)
    assert sorted(os.fsencode(p.name) for p in pipeline.staging.iterdir()) == before
    assert pipeline.tick("local_staging_sensor").run_requests == []


# The command line takes the same job; these cases exercise what differs there:
# names, links (followed: the operator chose them), folders and FIFOs in a folder.
CLI_CASES = [
    case
    for case in CASES
    if case.id
    in {
        "zero_byte",
        "csv_renamed",
        "headers_on_row_11",
        "excel_lock_file",
        "long_ids_and_seasons",
        "non_utf8_name",
        "traversal_in_name",
        "very_long_name",
        "hash_and_question_mark_name",
        "directory_named_xlsx",
        "fifo_named_xlsx",
        "symlink_to_etc_passwd",
        "symlink_to_manifest_outside",
        "dangling_symlink",
    }
]


def test_hostile_files_through_smartcrop_ingest(pipeline, tmp_path: Path) -> None:
    """The command-line path (``smartcrop ingest FOLDER``): same outcomes, and the
    caller's files are copied, never moved or changed."""
    drop = tmp_path / "drop"
    for case in CLI_CASES:
        corpus.create(case, drop)
    before = {
        os.fsencode(p.name): _digest(p)
        for p in drop.iterdir()
        if p.is_file() and not p.is_symlink()
    }
    summary = ingest_paths(
        [drop],
        instance=pipeline.instance,
        database_url=pipeline.db_url,
        config_path=str(pipeline.config_path),
    )
    files = summary["files"]
    records = {r[1]: r for r in _records(pipeline.db_url)}
    cli_files = [case for case in CLI_CASES if case.outcome != "ignored"]
    assert len(files) == len(cli_files) + 2  # and the two links to files
    for case in cli_files:
        outcome = files[case.shown_name]
        assert outcome["status"] == case.outcome, (case.id, outcome)
        record = records[case.shown_name]
        _assert_outcome(pipeline.db_url, case, record, pipeline.tmp / "work")
    # A symlink named .xlsx that the operator hands over is theirs to give: it is
    # read like any file (a manifest one ingests; /etc/passwd fails as not a
    # workbook, and stays where it is).
    linked = {c.fs_name: files[c.fs_name] for c in CLI_CASES if c.outside}
    assert linked["NBCU_link.xlsx"]["status"] == "ingested"
    assert linked["NBCU_passwd.xlsx"]["status"] == "failed"
    assert Path("/etc/passwd").is_file()
    assert summary["total_new_items"] == sum(c.items for c in cli_files) + 3
    after = {
        os.fsencode(p.name): _digest(p)
        for p in drop.iterdir()
        if p.is_file() and not p.is_symlink()
    }
    assert after == before
    _assert_nothing_hostile_stored(pipeline.db_url)
    assert not [p for p in _tree(tmp_path) if p.name.endswith(".part")]


@pytest.mark.parametrize("swap", ["symlink", "fifo"])
def test_a_file_swapped_after_the_sensor_saw_it_is_never_followed(
    pipeline, tmp_path: Path, swap: str
) -> None:
    """The sensor skips links and FIFOs; a regular file replaced by one between the
    tick and the run must not be followed (or block on a FIFO) either."""
    staged = corpus.create(corpus.by_id("traversal_in_name"), pipeline.staging)
    _age(staged)
    result = pipeline.tick("local_staging_sensor")
    assert len(result.run_requests) == 1
    staged.unlink()
    secret = tmp_path / "outside" / "NBCU_secret.xlsx"
    secret.parent.mkdir()
    secret.write_bytes(corpus.good("EP999"))
    if swap == "symlink":
        staged.symlink_to(secret)
    else:
        os.mkfifo(staged)
    started = time.monotonic()
    [run] = pipeline.run(result)
    assert not run.success
    assert time.monotonic() - started < 30  # refused at once, not retried for minutes
    message = run.get_step_failure_events()[0].step_failure_data.error.message
    assert "not a regular file" in message
    assert _records(pipeline.db_url) == []
    assert secret.is_file() and os.path.lexists(staged)
    assert not [p for p in _tree(pipeline.tmp / "work") if p.is_file()]
