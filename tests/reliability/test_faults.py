"""Real faults during ingestion: an SFTP server killed mid-download, S3 answering 5xx,
the database restarted in the middle of a run. What a user must see afterwards: every
file ingested exactly once, no work item lost or doubled, nothing partial left behind.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dagster import instance_for_test
from fastapi.testclient import TestClient

from api.app import create_app
from pipelines import sensors
from smartcrop.db import libpq_url
from tests.reliability.conftest import OwnPostgres
from tests.support import corpus
from tests.support.api import DEFAULT_PASSWORD, login
from tests.support.manifest_samples import query
from tests.support.pipelines import Pipeline, files_of, keys_of

SFTP_DIR = "/outbound"


def _age(path: Path, seconds: float = 10) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def _manifest(path: Path, prefix: str, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(corpus.good(prefix, rows))
    return path


def _ingested_exactly_once(db_url: str, expected: dict[str, int]) -> None:
    """``expected``: file name -> work items. One record per file, ingested; every
    accepted row landed once and linked; nothing else in the queue."""
    records = query(
        db_url,
        "SELECT filename, status, ingesteditems, totalrows FROM smartcrop_upload_files",
    )
    assert sorted(r[0] for r in records) == sorted(expected)
    for name, status, items, total in records:
        assert (status, items, total) == ("ingested", expected[name], expected[name])
    assert query(db_url, "SELECT count(*) FROM smartcrop_inputfiles")[0][0] == sum(
        expected.values()
    )
    assert query(
        db_url, "SELECT count(*) FROM smartcrop_inputfiles WHERE programimageid IS NULL"
    ) == [(0,)]
    assert query(
        db_url,
        "SELECT count(*), count(DISTINCT link_object_id) FROM smartcrop_programimage",
    ) == [(sum(expected.values()), sum(expected.values()))]


def _no_partial_files(root: Path) -> None:
    assert not [p for p in root.rglob("*") if p.name.endswith(".part")]


def _sftp_source(server: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "directory": SFTP_DIR,
        "credentials": {"username": server.username, "password": server.password},
    }


# --- SFTP -----------------------------------------------------------------------------


def test_sftp_connection_dropped_twice_mid_download(pipeline, sftp_server) -> None:
    pipeline.configure(filewatcher={"sftp_sources": [_sftp_source(sftp_server)]})
    _manifest(sftp_server.path(f"{SFTP_DIR}/NBCU_drops.xlsx"), "SH1X", 3000)
    result = pipeline.tick("sftp_manifest_sensor")
    assert len(result.run_requests) == 1
    sftp_server.drop_after(16_384, "read", times=2)
    [run] = pipeline.run(result)
    assert run.success
    assert sftp_server.drops == 2
    _ingested_exactly_once(pipeline.db_url, {"NBCU_drops.xlsx": 3000})
    _no_partial_files(pipeline.tmp)
    # The provider's file stays; the next tick does not hand it out again.
    assert sftp_server.path(f"{SFTP_DIR}/NBCU_drops.xlsx").is_file()
    assert pipeline.tick("sftp_manifest_sensor").run_requests == []


def test_sftp_server_killed_mid_download_and_restarted(pipeline, sftp_server) -> None:
    pipeline.configure(filewatcher={"sftp_sources": [_sftp_source(sftp_server)]})
    _manifest(sftp_server.path(f"{SFTP_DIR}/NBCU_restart.xlsx"), "SH2X", 5000)

    # Down while the sensor looks: the tick skips the source and keeps its cursor.
    sftp_server.stop()
    assert pipeline.tick("sftp_manifest_sensor").run_requests == []
    sftp_server.start()
    result = pipeline.tick("sftp_manifest_sensor")
    assert len(result.run_requests) == 1

    # Killed once the download has begun, back two seconds later.
    sftp_server.slow_down(0.2)
    work = pipeline.tmp / "work"

    def crash_and_restart() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(p.name.endswith(".part") for p in work.rglob("*")):
                break
            time.sleep(0.01)
        sftp_server.stop()
        sftp_server.slow_down(0)
        time.sleep(2)
        sftp_server.start()

    killer = threading.Thread(target=crash_and_restart)
    killer.start()
    [run] = pipeline.run(result)
    killer.join()
    assert run.success
    _ingested_exactly_once(pipeline.db_url, {"NBCU_restart.xlsx": 5000})
    _no_partial_files(pipeline.tmp)
    assert sftp_server.logins >= 3  # listing twice, the broken download, the retry


def test_sftp_names_that_are_not_utf8_do_not_block_the_folder(
    pipeline, sftp_server
) -> None:
    """One file whose name is not UTF-8 (any byte is allowed on a Unix server) must
    not stop the listing, and with it every other file of the provider."""
    pipeline.configure(filewatcher={"sftp_sources": [_sftp_source(sftp_server)]})
    folder = sftp_server.path(SFTP_DIR)
    _manifest(folder / "NBCU_plain.xlsx", "SH3X", 2)
    odd = os.path.join(os.fsencode(folder), b"NBCU_caf\xe9.xlsx")
    Path(os.fsdecode(odd)).write_bytes(corpus.good("SH4X", 4))
    result = pipeline.tick("sftp_manifest_sensor")
    names = sorted(files_of(result))
    assert names == ["NBCU_caf\ufffd.xlsx", "NBCU_plain.xlsx"]
    assert all(run.success for run in pipeline.run(result))
    _ingested_exactly_once(
        pipeline.db_url, {"NBCU_plain.xlsx": 2, "NBCU_caf\ufffd.xlsx": 4}
    )


# --- S3 -------------------------------------------------------------------------------

S3_KEYS = {
    "incoming/NBCU_plain.xlsx": ("NBCU_plain.xlsx", 4),
    # Dots in a key are just characters to S3; the working copy still lands in the
    # partition's own folder, and the name keeps only its last part.
    "incoming/../../etc/NBCU_x.xlsx": ("NBCU_x.xlsx", 5),
    "incoming/NBCU_..%2f..%2fy.xlsx": ("NBCU_..%2f..%2fy.xlsx", 6),
    # "#" and "?" are not a URL fragment or query in a key.
    "incoming/NBCU_week#12?.xlsx": ("NBCU_week#12?.xlsx", 7),
}


def _s3_pipeline(pipeline, s3_bucket, endpoint: str) -> tuple[Any, str]:
    client, bucket = s3_bucket
    pipeline.watch_s3(bucket, endpoint)
    for index, (key, (_, rows)) in enumerate(S3_KEYS.items()):
        client.put_object(Bucket=bucket, Key=key, Body=corpus.good(f"SH{index}S", rows))
    return client, bucket


def test_s3_errors_on_list_and_get_are_retried(
    pipeline, s3_bucket, flaky_s3, monkeypatch
) -> None:
    # Not a mock: a smaller batch, one run per file, so that each download meets
    # its own injected faults.
    monkeypatch.setattr(sensors, "MAX_FILES_PER_RUN", 1)
    _s3_pipeline(pipeline, s3_bucket, flaky_s3.endpoint_url)
    # The listing answers 503 SlowDown twice, then works.
    flaky_s3.fail_next(2, 503, "SlowDown")
    result = pipeline.tick("s3_manifest_sensor")
    assert flaky_s3.failures_served == 2
    assert sorted(files_of(result)) == sorted(name for name, _ in S3_KEYS.values())
    # Every download meets a 500 and a cut-off body before it succeeds.
    runs = []
    for request in result.run_requests:
        flaky_s3.fail_next(1, 500, "InternalError")
        flaky_s3.truncate_next(1, 100)
        runs += pipeline.run(_only(result, request))
    assert all(run.success for run in runs)
    assert flaky_s3.failures_served == 2 + len(S3_KEYS)
    assert flaky_s3.truncations_served == len(S3_KEYS)
    _ingested_exactly_once(pipeline.db_url, dict(S3_KEYS.values()))
    work = (pipeline.tmp / "work").resolve()
    copies = [p for p in work.rglob("*") if p.is_file()]
    assert len(copies) == len(S3_KEYS)
    assert all(p.resolve().parent.parent == work for p in copies)
    _no_partial_files(pipeline.tmp)
    assert not (pipeline.tmp / "etc").exists()
    assert pipeline.tick("s3_manifest_sensor").run_requests == []


@pytest.mark.slow
def test_a_long_s3_outage_is_covered_by_the_step_retry(
    pipeline, s3_bucket, flaky_s3
) -> None:
    """More failures than the transfer's own four attempts: the step fails, and
    Dagster's RetryPolicy on manifest_file tries it again once S3 is back."""
    client, bucket = s3_bucket
    pipeline.watch_s3(bucket, flaky_s3.endpoint_url)
    client.put_object(
        Bucket=bucket, Key="incoming/NBCU_outage.xlsx", Body=corpus.good("SH9S", 8)
    )
    # Down for the whole listing: the tick skips it and keeps its cursor.
    flaky_s3.fail_next(4, 500)
    assert pipeline.tick("s3_manifest_sensor").run_requests == []
    result = pipeline.tick("s3_manifest_sensor")
    assert len(result.run_requests) == 1
    flaky_s3.fail_next(5, 503, "ServiceUnavailable")
    [run] = pipeline.run(result)
    assert run.success
    retried = [e for e in run.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) == 1
    _ingested_exactly_once(pipeline.db_url, {"NBCU_outage.xlsx": 8})
    _no_partial_files(pipeline.tmp)


def _only(result: Any, request: Any) -> Any:
    """A sensor result reduced to one of its run requests."""
    from dagster import SensorResult  # noqa: PLC0415

    return SensorResult(
        run_requests=[request],
        dynamic_partitions_requests=result.dynamic_partitions_requests,
    )


# --- the database restarted -----------------------------------------------------------


@contextmanager
def _pipeline_on(db_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True)
    with instance_for_test(temp_dir=str(home)) as instance:
        p = Pipeline(tmp=tmp_path, db_url=db_url, instance=instance)
        p.configure(
            database={"url": db_url},
            processing_middleware={
                "local_filesystem": {
                    "root_path": str(tmp_path / "staging"),
                    "quarantine_path": str(tmp_path / "quarantine"),
                    "work_dir": str(tmp_path / "work"),
                }
            },
            smartcrop_service={"auth": {"secret_file": str(tmp_path / "jwt_secret")}},
        )
        (tmp_path / "staging").mkdir()
        yield p


def _wait_for_copy(admin_url: str, timeout: float = 60) -> None:
    """Until a COPY into smartcrop_inputfiles is running on the server."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE query LIKE 'COPY smartcrop_inputfiles%%'"
            ).fetchone()
            if busy and busy[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the COPY never started")


@pytest.mark.slow
def test_database_restarted_during_ingestion(own_pg: OwnPostgres, tmp_path) -> None:
    """The server crashes (``pg_ctl -m immediate``) while a big file is being landed
    and comes back two seconds later; a file queued behind it meets the database
    down. Every run still completes, each file exactly once."""
    db_url = own_pg.create_migrated_database()
    files = {"NBCU_a_small.xlsx": 5, "NBCU_b_big.xlsx": 25_000, "NBCU_c_after.xlsx": 7}
    with _pipeline_on(db_url, tmp_path / "p") as pipeline:
        for index, (name, rows) in enumerate(files.items()):
            _age(_manifest(pipeline.staging / name, f"SH{index}D", rows))
        result = pipeline.tick("local_staging_sensor")
        assert sorted(files_of(result)) == sorted(files)
        runs: list[Any] = []
        worker = threading.Thread(target=lambda: runs.extend(pipeline.run(result)))
        worker.start()
        _wait_for_copy(own_pg.admin_url)
        own_pg.stop("immediate")
        time.sleep(2)
        own_pg.start()
        worker.join(timeout=300)
        assert not worker.is_alive()
        assert runs and all(run.success for run in runs)
        retried = [
            e.step_key
            for run in runs
            for e in run.all_events
            if e.event_type_value == "STEP_UP_FOR_RETRY"
        ]
        # Which step met the crash depends on timing (the COPY may just have ended).
        assert set(retried) & {"manifest_rows", "work_items"}
        _ingested_exactly_once(db_url, files)
        # A re-run of every partition (a backfill from the UI) changes nothing.
        for key in keys_of(result):
            assert pipeline.rerun(key).success
        _ingested_exactly_once(db_url, files)
        _no_partial_files(pipeline.tmp)
        assert list(pipeline.staging.iterdir()) == []


def test_the_api_answers_503_while_the_database_is_down_and_recovers(
    own_pg: OwnPostgres, settings_for
) -> None:
    from smartcrop.identity.users import create_user  # noqa: PLC0415

    db_url = own_pg.create_migrated_database()
    from sqlalchemy import create_engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    engine = create_engine(db_url)
    with Session(engine) as session, session.begin():
        create_user(
            session,
            name="Admin",
            email="admin@example.com",
            password=DEFAULT_PASSWORD,
            role_name="admin",
        )
    engine.dispose()
    app = create_app(settings_for(db_url), db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        token = login(client, "admin@example.com", DEFAULT_PASSWORD).json()["Data"]
        headers = {"Authorization": f"Bearer {token['Token']}"}
        assert client.get("/user/UserList", headers=headers).status_code == 200
        own_pg.stop("immediate")
        try:
            assert client.get("/health").status_code == 503
            down = client.get("/user/UserList", headers=headers)
            assert down.status_code == 503
            assert down.json()["IsSuccess"] is False
            assert "database" in down.json()["Message"].lower()
        finally:
            own_pg.start()
        # Pooled connections killed by the restart are replaced, not reused.
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}
        assert client.get("/user/UserList", headers=headers).status_code == 200
