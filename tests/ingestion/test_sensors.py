"""The sensor path: real sensor contexts on a real instance, then the runs executed.

Local staging folder, S3 on a moto server over HTTP, SFTP on a real SSH server.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psycopg
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey

from assets.ingestion import manifest_partitions
from pipelines import sensors
from smartcrop.db import libpq_url
from smartcrop.ingestion.acquire import Locator
from tests.support.manifest_samples import (
    EXPECTED,
    SAMPLES,
    assert_matches_expected,
    copy_samples,
    query,
    upload_rows,
    work_item_count,
)
from tests.support.pipelines import files_of, handed_out, keys_of

ORDER = [*EXPECTED["files"], *EXPECTED["failed"]]


def _age(path: Path, seconds: float = 10) -> None:
    """Make a staged file look settled (the sensor waits for files being written)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def _stage(pipeline, names: list[str]) -> None:
    for name in names:
        _age(Path(shutil.copy2(SAMPLES / name, pipeline.staging / name)))


def test_local_sensor_reproduces_expected_and_never_repeats(pipeline) -> None:
    # Files arrive one tick at a time, in the order of expected.json.
    for name in ORDER:
        _stage(pipeline, [name])
        result = pipeline.tick("local_staging_sensor")
        assert files_of(result) == [name]
        pipeline.run(result)
    assert_matches_expected(pipeline.db_url)
    assert len(pipeline.partitions()) == len(ORDER)
    # Taken files left the staging folder; failed ones are in quarantine.
    assert list(pipeline.staging.iterdir()) == []
    assert sorted(p.name for p in pipeline.quarantine.iterdir()) == sorted(
        EXPECTED["failed"]
    )
    # Another tick finds nothing new.
    again = pipeline.tick("local_staging_sensor")
    assert again.run_requests == []


def test_a_file_seen_twice_before_its_run_is_requested_once(pipeline) -> None:
    _stage(pipeline, ["EMAIL_20261120.xlsx"])
    first = pipeline.tick("local_staging_sensor")
    second = pipeline.tick("local_staging_sensor")  # the run has not happened yet
    assert len(first.run_requests) == 1
    assert second.run_requests == []
    # A file still being written (modified just now) waits for a later tick.
    fresh = pipeline.staging / "TMDB_20261120.xlsx"
    shutil.copy2(SAMPLES / fresh.name, fresh)
    os.utime(fresh, None)
    assert pipeline.tick("local_staging_sensor").run_requests == []
    _age(fresh)
    assert len(pipeline.tick("local_staging_sensor").run_requests) == 1


def test_rematerialising_and_backfilling_a_partition_adds_nothing(pipeline) -> None:
    _stage(pipeline, ["NBCU_20261120.xlsx"])
    result = pipeline.tick("local_staging_sensor")
    assert all(run.success for run in pipeline.run(result))
    key = result.run_requests[0].partition_key
    before = query(pipeline.db_url, "SELECT count(*) FROM smartcrop_inputfiles")
    # A backfill from the UI carries no run config: the fetched file is used again.
    rerun = pipeline.rerun(key)
    assert rerun.success
    assert query(pipeline.db_url, "SELECT count(*) FROM smartcrop_inputfiles") == before
    assert work_item_count(pipeline.db_url) == 40
    assert upload_rows(pipeline.db_url)["NBCU_20261120.xlsx"][:5] == (
        "ingested",
        "NBCU",
        40,
        5,
        1,
    )
    checks = {e.check_name: e.passed for e in rerun.get_asset_check_evaluations()}
    assert checks == {
        "rejected_rows": False,  # warns: the file has 5 rejected rows
        "files_readable": True,
        "every_row_has_a_work_item": True,
        "duplicates": False,  # warns: one in-file duplicate
    }


WORK_ITEM_CHECK = AssetCheckKey(AssetKey("work_items"), "every_row_has_a_work_item")


def _work_item_check(run):
    [evaluation] = [
        e
        for e in run.get_asset_check_evaluations()
        if e.check_name == "every_row_has_a_work_item"
    ]
    return evaluation


def test_a_work_item_lost_after_ingestion_fails_its_check_until_rematerialised(
    pipeline,
) -> None:
    _stage(pipeline, ["EMAIL_20261120.xlsx"])
    result = pipeline.tick("local_staging_sensor")
    [run] = pipeline.run(result)
    key = result.run_requests[0].partition_key
    assert _work_item_check(run).passed
    assert _work_item_check(run).metadata["accepted_rows"].value == 6
    # An item deleted by hand: its row is landed work nobody will see.
    with psycopg.connect(libpq_url(pipeline.db_url), autocommit=True) as conn:
        lost = conn.execute(
            "DELETE FROM smartcrop_programimage WHERE id ="
            " (SELECT min(id) FROM smartcrop_programimage) RETURNING link_object_id"
        ).fetchone()[0]

    # The check on its own, as from the UI: for the partition, then for every file.
    job = pipeline.definitions().resolve_job_def("ingest_manifest")
    check_only = job.get_subset(
        asset_selection=set(), asset_check_selection={WORK_ITEM_CHECK}
    )
    alone = check_only.execute_in_process(
        partition_key=key, instance=pipeline.instance, raise_on_error=False
    )
    every = check_only.execute_in_process(
        instance=pipeline.instance, raise_on_error=False
    )

    for outcome in (alone, every):
        assert outcome.success  # a check that fails does not fail the run
        evaluation = _work_item_check(outcome)
        assert not evaluation.passed
        assert evaluation.severity == AssetCheckSeverity.ERROR
        assert evaluation.metadata["unlinked_rows"].value == 1
        assert lost in evaluation.metadata["first_unlinked"].value
    # Materialising the partition again re-creates the item.
    assert _work_item_check(pipeline.rerun(key)).passed
    assert work_item_count(pipeline.db_url) == 6


def test_a_partition_without_a_file_fails_clearly(pipeline) -> None:
    pipeline.instance.add_dynamic_partitions(
        "manifest_files", ["GHOST.xlsx-0000000000"]
    )
    result = pipeline.rerun("GHOST.xlsx-0000000000")
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "has no file yet" in failure.step_failure_data.error.message


def test_s3_sensor_picks_up_each_new_object_once(
    pipeline, s3_bucket, s3_server
) -> None:
    client, bucket = s3_bucket
    pipeline.watch_s3(bucket, s3_server)
    client.upload_file(
        str(SAMPLES / "NBCU_20261120.xlsx"), bucket, "incoming/NBCU_20261120.xlsx"
    )
    client.put_object(Bucket=bucket, Key="incoming/readme.txt", Body=b"not a manifest")
    client.upload_file(
        str(SAMPLES / "NBCU_20261120.xlsx"), bucket, "elsewhere/NBCU_x.xlsx"
    )
    first = pipeline.tick("s3_manifest_sensor")
    assert files_of(first) == ["NBCU_20261120.xlsx"]
    assert all(run.success for run in pipeline.run(first))
    assert pipeline.tick("s3_manifest_sensor").run_requests == []

    # A file appearing between two ticks is picked up once.
    client.upload_file(
        str(SAMPLES / "DISNEY_20261120.xlsx"), bucket, "incoming/DISNEY_20261120.xlsx"
    )
    second = pipeline.tick("s3_manifest_sensor")
    assert files_of(second) == ["DISNEY_20261120.xlsx"]
    pipeline.run(second)
    assert pipeline.tick("s3_manifest_sensor").run_requests == []
    rows = upload_rows(pipeline.db_url)
    assert rows["NBCU_20261120.xlsx"][:3] == ("ingested", "NBCU", 40)
    assert rows["DISNEY_20261120.xlsx"][:3] == ("ingested", "DISNEY", 25)
    assert query(
        pipeline.db_url,
        "SELECT source, sourcepath FROM smartcrop_upload_files ORDER BY id LIMIT 1",
    ) == [("s3", f"s3://{bucket}/incoming/NBCU_20261120.xlsx")]


def test_sftp_sensor_picks_up_new_files_once_and_survives_a_drop(
    pipeline, sftp_server
) -> None:
    drop = sftp_server.path("/outbound")
    drop.mkdir(parents=True)
    pipeline.configure(
        filewatcher={
            "sftp_sources": [
                {
                    "host": sftp_server.host,
                    "port": sftp_server.port,
                    "directory": "/outbound",
                    "credentials": {
                        "username": sftp_server.username,
                        "password": sftp_server.password,
                    },
                }
            ]
        }
    )
    copy_samples(drop, ["TMDB_20261120.xlsx"])
    first = pipeline.tick("sftp_manifest_sensor")
    assert files_of(first) == ["TMDB_20261120.xlsx"]
    # The connection drops in the middle of the download; the retry ingests it once.
    sftp_server.drop_after(4096, "read", times=1)
    assert all(run.success for run in pipeline.run(first))
    assert sftp_server.drops == 1
    assert pipeline.tick("sftp_manifest_sensor").run_requests == []

    copy_samples(drop, ["EMAIL_20261120.xlsx"])
    second = pipeline.tick("sftp_manifest_sensor")
    assert files_of(second) == ["EMAIL_20261120.xlsx"]
    pipeline.run(second)
    rows = upload_rows(pipeline.db_url)
    assert rows["TMDB_20261120.xlsx"][:5] == ("ingested", "TMDB", 30, 1, 0)
    assert rows["EMAIL_20261120.xlsx"][:3] == ("ingested", "EMAIL", 6)
    # No partial download is left anywhere in the working area.
    assert not list(Path(pipeline.tmp / "work").rglob("*.part"))


def test_one_source_down_does_not_stop_the_sensor(pipeline, sftp_server) -> None:
    pipeline.configure(
        filewatcher={
            "sftp_sources": [
                {
                    "host": "127.0.0.1",
                    "port": sftp_server.port,
                    "directory": "/",
                    "credentials": {"username": "nobody", "password": "wrong-password"},
                }
            ]
        }
    )
    result = pipeline.tick("sftp_manifest_sensor")
    assert result.run_requests == []


def test_a_burst_is_ingested_in_batches_with_the_same_outcome(
    pipeline, monkeypatch
) -> None:
    """Every sample at once (bad files included): runs of at most MAX_FILES_PER_RUN
    files, each a range of partitions; the outcome is the one of expected.json, a
    bad file quarantined while the rest of its batch goes on."""
    # Not a mock: a smaller batch, so that the few samples make several batches.
    monkeypatch.setattr(sensors, "MAX_FILES_PER_RUN", 3)
    _stage(pipeline, ORDER)
    result = pipeline.tick("local_staging_sensor")
    assert sorted(files_of(result)) == sorted(ORDER)
    sizes = [
        1 if r.partition_key else int(r.tags["smartcrop/files"])
        for r in result.run_requests
    ]
    assert max(sizes) == 3 and sum(sizes) == len(ORDER)
    assert len(result.run_requests) == -(-len(ORDER) // 3)
    runs = pipeline.run(result)
    assert_matches_expected(pipeline.db_url)
    assert list(pipeline.staging.iterdir()) == []
    assert sorted(p.name for p in pipeline.quarantine.iterdir()) == sorted(
        EXPECTED["failed"]
    )
    # Each partition shows its own materialisation in the UI.
    assert pipeline.instance.get_materialized_partitions(AssetKey("work_items")) >= set(
        keys_of(result)
    ) - {key for key, name in handed_out(result) if name in EXPECTED["failed"]}
    # A run holding a bad file among good ones succeeds and names it in its failed
    # files_readable check; a run of bad files only fails; the others pass.
    bad = set(EXPECTED["failed"])
    kinds = set()
    for request, run in zip(result.run_requests, runs, strict=True):
        names = set(_names(request))
        checks = {
            c.check_name: c
            for c in run.get_asset_check_evaluations()
            if c.check_name == "files_readable"
        }
        kinds.add("bad" if names <= bad else "mixed" if names & bad else "good")
        if run.success:  # every row of the run's files has its work item
            assert _work_item_check(run).passed, names
        if names <= bad:
            assert not run.success, names
        elif names & bad:
            assert run.success and not checks["files_readable"].passed, names
            named = checks["files_readable"].metadata["failures"].value
            assert all(name in named for name in names & bad), named
        else:
            assert run.success and checks["files_readable"].passed, names
    assert kinds == {"bad", "mixed", "good"}  # the samples' name order makes all three
    assert pipeline.tick("local_staging_sensor").run_requests == []


def _names(request) -> list[str]:
    config = request.run_config["ops"]["manifest_file"]["config"]
    if "files" not in config:
        return [request.tags["smartcrop/file"]]
    return [Path(f["location"]).name for f in config["files"]]


def test_a_batch_is_a_range_holding_exactly_its_files(pipeline) -> None:
    """A file whose partition already exists (seen before the cursor was lost, say)
    is not inside another batch's range: ranges are cut from the stored order."""
    locators = [
        Locator("local", str(pipeline.staging / f"NBCU_{n}.xlsx"), None, 100 + n)
        for n in range(5)
    ]
    known = sensors.file_key(locators[2])
    pipeline.instance.add_dynamic_partitions(
        "manifest_files", ["other-0", known, "other-1"]
    )
    keys, requests = sensors.run_requests_for(pipeline.instance, locators)
    assert sorted(keys) == sorted(sensors.file_key(loc) for loc in locators)
    single, batch = requests
    assert single.partition_key == known and single.run_key == known
    # A range of dynamic partitions: the keys from start to end in stored order.
    stored = pipeline.instance.get_dynamic_partitions(manifest_partitions.name)
    span = batch.partition_key_range
    in_range = stored[stored.index(span.start) : stored.index(span.end) + 1]
    assert in_range == [sensors.file_key(locators[n]) for n in (0, 1, 3, 4)]
    assert [
        f["partition_key"]
        for f in batch.run_config["ops"]["manifest_file"]["config"]["files"]
    ] == in_range
