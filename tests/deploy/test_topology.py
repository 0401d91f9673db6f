"""The production topology as separate processes (issue 13), everything real.

Its own two databases on the test PostgreSQL server (SmartCrop's, migrated; Dagster's
storage), a DAGSTER_HOME holding deploy/dagster.yaml (PostgreSQL storage, the queued
run coordinator with one manifest export at a time), ``smartcrop dagster
--keep-instance`` (a code server, the webserver and the daemon) and two API
processes, each ``smartcrop api --workers 2``, on loopback. Then, in order, on that
one deployment (one test: its steps build on each other, and pytest-xdist would
start a deployment per worker for tests that shared it):

1. a manifest dropped into the staging folder is ingested once, by the sensor;
2. operators claim on one API and save on the other, concurrently: no programme
   is given twice;
3. ``POST /batchjob/run`` to both APIs at the same moment: two runs through the
   queue (enqueued by the webserver, launched by the daemon), run one after the
   other by the tag limit, one ``success`` and one ``no_rows``, every rendition in
   exactly one manifest;
4. one API process killed with SIGKILL mid-request: the other serves on, and the
   run the dead one submitted still finishes (it is Dagster's, not the API's);
5. the run worker killed mid-export is marked failed (by the code server that
   started it) and the endpoint answers ``failed``; the next run exports the rows,
   nothing twice.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from smartcrop.db import libpq_url
from smartcrop.exports.manifest import EXPORT_LOCK_KEY
from tests.support.export_setup import base_config, merge, query
from tests.support.manifest_samples import EXPECTED, SAMPLES, upload_rows
from tests.support.postgres import PostgresServer
from tests.support.topology import Topology, production_topology, wait_for
from tests.support.workflow_api import rendition, save_body

JWT_SECRET = "one signing secret for every API process of the topology test, 48+"
MANIFEST = "EMAIL_20261120.xlsx"
PROVIDER, LATE_PROVIDER = "NBCU", "DISNEY"
PROGRAMMES, LATE_PROGRAMMES = 24, 3
OPERATORS = 4
ASPECT_1X1 = 5
HTTP_TIMEOUT = 240.0
# The way every run takes through the queue: the webserver (or the sensor) enqueues
# it (RUN_ENQUEUED, status QUEUED); only the daemon's queue takes a run out of QUEUED,
# reporting RUN_STARTING as it hands it to the run launcher (dagster 1.13 never
# emits RUN_DEQUEUED); then the run worker reports RUN_START.
QUEUE_PATH = (
    DagsterEventType.RUN_ENQUEUED,
    DagsterEventType.RUN_STARTING,
    DagsterEventType.RUN_START,
)
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE}


@pytest.fixture
def dagster_db(pg_server: PostgresServer) -> Iterator[str]:
    """An empty database for Dagster's storage on the test's PostgreSQL server."""
    name = pg_server.create_database()
    yield pg_server.url_for(name)
    pg_server.drop_database(name)


# --- helpers ----------------------------------------------------------------------


def seed_programmes(db_url: str, provider: str, count: int) -> dict[str, list[int]]:
    """``count`` programmes waiting for an operator, every third with two images,
    sizes known (a claim fetches no source image): ProgramId -> image ids."""
    with psycopg.connect(libpq_url(db_url)) as conn:
        rows = conn.execute(
            "INSERT INTO smartcrop_programimage (link_object_id, providername,"
            " programtitle, imageurl, imagetypeid, languageid, width, height, status,"
            " currentstate, createdat)"
            " SELECT format('%%s-%%s', %(p)s::text, lpad(n::text, 4, '0')), %(p)s,"
            " 'Title', format('https://img.example.com/%%s/%%s/%%s.jpg',"
            " %(p)s::text, n, i), 1, 1, 2000, 3000, 1, 0,"
            " now() - make_interval(secs => n)"
            " FROM generate_series(1, %(count)s) n, generate_series(1, 2) i"
            " WHERE i = 1 OR n %% 3 = 0 RETURNING id, link_object_id",
            {"p": provider, "count": count},
        ).fetchall()
    programmes: dict[str, list[int]] = {}
    for image_id, program_id in rows:
        programmes.setdefault(program_id, []).append(image_id)
    return {pid: sorted(ids) for pid, ids in programmes.items()}


def login(base_url: str, email: str, password: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base_url}/user/Login",
        json={"EmailID": email, "Password": password},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['Data']['Token']}"}


def finish(base_url: str, headers: dict[str, str], user_id: int, claimed: dict) -> None:
    """Save one 1x1 rendition per image of a claimed programme: done, to QA or on."""
    images = [
        (image["ImageId"], 2, None, [rendition(ASPECT_1X1, 8, 8)])
        for image in claimed["Images"]
    ]
    answer = httpx.post(
        f"{base_url}/image/SaveCropedImages",
        json=save_body(claimed["ProgramId"], user_id, images),
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text


def final_answer(
    base_url: str, headers: dict[str, str], answer: httpx.Response
) -> dict[str, Any]:
    """A file-pipeline endpoint's body; a 202 ``running`` is followed up on
    ``GET /filewatcher/runs/{run_id}`` until the run has finished."""
    deadline = time.monotonic() + HTTP_TIMEOUT
    while answer.status_code == 202:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)
        run_id = answer.json()["run_id"]
        answer = httpx.get(
            f"{base_url}/filewatcher/runs/{run_id}", headers=headers, timeout=30
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


def api_manifest_runs(topology: Topology) -> list[str]:
    """The ids of the export runs the API started, oldest first."""
    records = topology.instance.get_run_records(
        RunsFilter(job_name="nightly_manifest_job", tags={"smartcrop/trigger": "api"})
    )
    return [
        r.dagster_run.run_id for r in sorted(records, key=lambda r: r.create_timestamp)
    ]


def event_times(topology: Topology, run_id: str) -> dict[DagsterEventType, float]:
    """When each kind of event first happened in a run (epoch seconds)."""
    times: dict[DagsterEventType, float] = {}
    for entry in topology.instance.all_logs(run_id):
        if entry.dagster_event is not None:
            times.setdefault(entry.dagster_event.event_type, entry.timestamp)
    return times


def timelines(topology: Topology, *run_ids: str) -> str:
    """The runs' events in time order, to read when an order is not as expected."""
    lines = []
    for run_id in run_ids:
        for entry in topology.instance.all_logs(run_id):
            kind = entry.dagster_event.event_type.value if entry.dagster_event else ""
            lines.append((entry.timestamp, run_id[:8], kind, entry.message[:120]))
    return "\n".join(f"{t:.3f} {r} {k} {m}" for t, r, k, m in sorted(lines))


def assert_went_through_the_queue(topology: Topology, run_id: str) -> None:
    times = event_times(topology, run_id)
    missing = [kind.value for kind in QUEUE_PATH if kind not in times]
    assert not missing, (run_id, missing)
    assert [times[kind] for kind in QUEUE_PATH] == sorted(
        times[kind] for kind in QUEUE_PATH
    ), run_id


def run_status(topology: Topology, run_id: str) -> DagsterRunStatus:
    run = topology.instance.get_run_by_id(run_id)
    assert run is not None, run_id
    return run.status


@contextmanager
def export_lock(db_url: str) -> Iterator[psycopg.Connection]:
    """The manifest export's lock, held by the test as another exporter would hold
    it (smartcrop/exports/manifest.py): an export run waits for it, inside its
    export transaction, until the block ends."""
    with psycopg.connect(libpq_url(db_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (EXPORT_LOCK_KEY,))
        try:
            yield holder
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (EXPORT_LOCK_KEY,))


def waiting_for_the_export_lock(holder: psycopg.Connection) -> int:
    """How many sessions wait for the export lock the test holds."""
    row = holder.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid::bigint = %s AND objid::bigint = %s",
        (EXPORT_LOCK_KEY >> 32, EXPORT_LOCK_KEY & 0xFFFFFFFF),
    ).fetchone()
    return int(row[0]) if row else 0


def manifests(outbound: Path) -> dict[str, list[tuple[int, str]]]:
    """Every manifest written: file name -> its (ImageId, AspectRatio) rows."""
    files = {}
    for path in sorted(outbound.glob("SmartCrop_Manifest_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            files[path.name] = [
                (int(row["ImageId"]), row["AspectRatio"])
                for row in csv.DictReader(handle)
            ]
    return files


def renditions(db_url: str) -> dict[tuple[int, str], str | None]:
    """(ImageId, AspectRatio) -> the manifest its image is stamped with."""
    rows = query(
        db_url,
        "SELECT p.id, ar.title, p.outputfilename FROM smartcrop_aspectratioimages a"
        " JOIN smartcrop_programimage p ON p.id = a.programimageid"
        " JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid",
    )
    return {(image_id, ratio): stamp for image_id, ratio, stamp in rows}


def assert_every_rendition_in_exactly_one_manifest(
    db_url: str, outbound: Path
) -> dict[str, list[tuple[int, str]]]:
    files = manifests(outbound)
    in_files = Counter(row for rows in files.values() for row in rows)
    twice = [row for row, n in in_files.items() if n > 1]
    assert not twice, twice
    stamped = renditions(db_url)
    assert set(in_files) == set(stamped)
    for name, rows in files.items():
        assert {stamped[row] for row in rows} == {name}
    assert not list(outbound.glob("*.part"))
    return files


# --- the test -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_production_topology_as_separate_processes(
    db_url: str, dagster_db: str, make_user, tmp_path: Path
) -> None:
    programmes = seed_programmes(db_url, PROVIDER, PROGRAMMES)
    late = seed_programmes(db_url, LATE_PROVIDER, LATE_PROGRAMMES)
    _, admin_email, admin_password = make_user("admin")
    operators = [make_user("operator") for _ in range(OPERATORS)]
    staging, outbound = tmp_path / "staging", tmp_path / "outbound"
    staging.mkdir()
    config = merge(
        base_config(tmp_path, db_url),
        {
            "filewatcher": {"sensor_interval_seconds": 1},
            "smartcrop_service": {"dagster": {"wait_seconds": 120}},
            # Only the API starts exports here: the nightly schedules never come up
            # during the test (29 February).
            "smartcrop_filewatcher_batchjob": {"schedule": "0 2 29 2 *"},
            "smartcrop_dumpdata": {"schedule": "30 2 29 2 *"},
        },
    )
    timings: dict[str, float] = {}
    started = time.monotonic()
    with production_topology(
        tmp_path,
        config,
        dagster_db,
        api_env={"SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET},
        # Room for every run at once: the manifest runs queue on their tag limit.
        max_concurrent_runs=4,
    ) as topology:
        timings["ready"] = time.monotonic() - started
        one, two = (api.base_url for api in topology.apis)
        # A token from one API process works on the other (one shared secret).
        admin = login(one, admin_email, admin_password)
        answer = httpx.get(f"{two}/role/QCdisable", params={"status": 1}, headers=admin)
        assert answer.status_code == 200, answer.text  # saves go straight on

        # 1. A manifest dropped into the staging folder: ingested once, by the sensor.
        step = time.monotonic()
        dropped = tmp_path / MANIFEST
        dropped.write_bytes((SAMPLES / MANIFEST).read_bytes())
        os.replace(dropped, staging / MANIFEST)

        def ingested() -> list:
            runs = topology.instance.get_runs(RunsFilter(job_name="ingest_manifest"))
            return [run for run in runs if run.status in FINISHED]

        [ingest_run] = wait_for(ingested, 120, "the sensor's run", topology.logs)
        timings["ingested"] = time.monotonic() - step
        assert ingest_run.status == DagsterRunStatus.SUCCESS
        assert ingest_run.tags["dagster/sensor_name"] == "local_staging_sensor"
        assert ingest_run.tags["smartcrop/source"] == "local"
        assert ingest_run.tags["smartcrop/file"] == MANIFEST
        assert_went_through_the_queue(topology, ingest_run.run_id)
        want = EXPECTED["files"][MANIFEST]
        status, provider, items, *_ = upload_rows(db_url)[MANIFEST]
        assert (status, provider, items) == (
            "ingested",
            "EMAIL",
            want["ingested_items"],
        )
        assert query(
            db_url,
            "SELECT count(*) FROM smartcrop_programimage WHERE providername = 'EMAIL'",
        ) == [(want["ingested_items"],)]

        # 2. Operators claim on one API process and save on the other, all at once.
        step = time.monotonic()
        claims: list[tuple[str, list[int], int]] = []
        errors: list[str] = []
        barrier = threading.Barrier(OPERATORS)

        def operator(index: int) -> None:
            user_id, email, password = operators[index]
            servers = (one, two) if index % 2 else (two, one)
            headers = login(servers[0], email, password)
            barrier.wait()
            for turn in range(PROGRAMMES + 1):
                claim_on, save_on = servers[turn % 2], servers[(turn + 1) % 2]
                try:
                    answer = httpx.get(
                        f"{claim_on}/image/GetImageInfo",
                        params={"providerName": PROVIDER},
                        headers=headers,
                        timeout=60,
                    )
                    assert answer.status_code == 200, answer.text
                    claimed = answer.json()["Data"]
                    if claimed is None:
                        return
                    ids = sorted(image["ImageId"] for image in claimed["Images"])
                    claims.append((claimed["ProgramId"], ids, user_id))
                    finish(save_on, headers, user_id, claimed)
                except (AssertionError, httpx.HTTPError) as exc:
                    errors.append(f"operator {index}: {exc!r}"[:500])
                    return

        threads = [
            threading.Thread(target=operator, args=(i,)) for i in range(OPERATORS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT)
        timings["claims"] = time.monotonic() - step
        assert not errors, errors
        taken = Counter(program_id for program_id, _, _ in claims)
        assert taken == Counter(list(programmes)), "a programme given twice or never"
        assert {pid: ids for pid, ids, _ in claims} == programmes  # each one whole
        assert len({user for _, _, user in claims}) > 1
        assert (
            query(
                db_url,
                "SELECT link_object_id, count(DISTINCT userid) FROM"
                " smartcrop_programimage_audit WHERE tostatus = 1 AND tostate = 1"
                " GROUP BY link_object_id HAVING count(DISTINCT userid) <> 1",
            )
            == []
        )
        assert query(
            db_url,
            "SELECT DISTINCT status, currentstate FROM smartcrop_programimage"
            " WHERE providername = %s",
            (PROVIDER,),
        ) == [(3, 0)]

        # 3. The manifest export asked of both API processes at the same moment. The
        # test holds the export lock, as a long export elsewhere would, so the first
        # run stays in progress until both are queued and a later run has overtaken
        # the second: the queue moves, and the second waits for its tag limit only.
        step = time.monotonic()
        answers: dict[str, dict[str, Any]] = {}
        barrier = threading.Barrier(2)

        def export(base_url: str) -> None:
            barrier.wait()
            try:
                response = httpx.post(
                    f"{base_url}/batchjob/run", headers=admin, timeout=HTTP_TIMEOUT
                )
                answers[base_url] = final_answer(base_url, admin, response)
            except (AssertionError, httpx.HTTPError) as exc:
                answers[base_url] = {"error": repr(exc)}

        threads = [threading.Thread(target=export, args=(url,)) for url in (one, two)]
        with export_lock(db_url) as holder:
            for thread in threads:
                thread.start()
            wait_for(
                lambda: (
                    len(api_manifest_runs(topology)) == 2
                    and waiting_for_the_export_lock(holder) == 1
                ),
                120,
                "two export runs, one of them exporting",
                topology.logs,
            )
            statuses = {r: run_status(topology, r) for r in api_manifest_runs(topology)}
            queued = [r for r, s in statuses.items() if s == DagsterRunStatus.QUEUED]
            assert len(queued) == 1, f"one run must wait for the tag limit: {statuses}"
            [held] = queued
            dumped = httpx.post(
                f"{two}/dumpdata/run", headers=admin, timeout=HTTP_TIMEOUT
            )
            dump = final_answer(two, admin, dumped)
            assert dump["status"] == "success", dump
            assert run_status(topology, held) == DagsterRunStatus.QUEUED, statuses
            overtaken = event_times(topology, held)[DagsterEventType.RUN_ENQUEUED]
            assert (
                event_times(topology, dump["run_id"])[DagsterEventType.RUN_ENQUEUED]
                > overtaken
            )
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT + 30)
        timings["two exports"] = time.monotonic() - step
        by_status = {body.get("status"): body for body in answers.values()}
        assert set(by_status) == {"success", "no_rows"}, answers
        first, second = by_status["success"]["run_id"], by_status["no_rows"]["run_id"]
        assert second == held
        assert set(api_manifest_runs(topology)) == {first, second}
        for run_id in (first, second, dump["run_id"]):
            run = topology.instance.get_run_by_id(run_id)
            assert run is not None and run.status == DagsterRunStatus.SUCCESS
            assert run.tags["smartcrop/trigger"] == "api"
            assert_went_through_the_queue(topology, run_id)
        assert {
            topology.instance.get_run_by_id(r).tags["smartcrop/endpoint"]
            for r in (first, second)
        } == {"manifest"}
        # The tag limit held the second run in the queue until the first had ended.
        ran, waited = event_times(topology, first), event_times(topology, second)
        timeline = timelines(topology, first, second)
        first_ended = ran[DagsterEventType.RUN_SUCCESS]
        assert first_ended <= waited[DagsterEventType.RUN_STARTING], timeline
        files = assert_every_rendition_in_exactly_one_manifest(db_url, outbound)
        assert list(files) == [by_status["success"]["file"]]
        assert len(files[by_status["success"]["file"]]) == sum(
            len(ids) for ids in programmes.values()
        )

        # 4. One API process killed (SIGKILL, every process of it) mid-request.
        step = time.monotonic()
        before = set(api_manifest_runs(topology))
        in_flight: dict[str, Any] = {}

        def doomed() -> None:
            try:
                in_flight["answer"] = httpx.post(
                    f"{one}/batchjob/run", headers=admin, timeout=HTTP_TIMEOUT
                ).status_code
            except httpx.HTTPError as exc:
                in_flight["error"] = exc

        request = threading.Thread(target=doomed)
        request.start()
        [orphan] = wait_for(
            lambda: [r for r in api_manifest_runs(topology) if r not in before],
            60,
            "the run the doomed request submitted",
            topology.logs,
        )
        assert request.is_alive(), in_flight  # waiting for its run
        health: list[int | str] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                try:
                    health.append(httpx.get(f"{two}/health", timeout=10).status_code)
                except httpx.HTTPError as exc:
                    health.append(repr(exc))
                stop.wait(0.05)

        watcher = threading.Thread(target=keep_asking)
        watcher.start()
        try:
            wait_for(lambda: len(health) >= 3, 30, "/health answers before the kill")
            topology.apis[0].service.kill()
            request.join(timeout=60)
            seen = len(health)
            wait_for(lambda: len(health) >= seen + 10, 30, "/health after the kill")
        finally:
            stop.set()
            watcher.join(timeout=30)
        assert not topology.apis[0].service.pids()
        assert "answer" not in in_flight and "error" in in_flight, in_flight
        assert set(health) == {200}, Counter(map(str, health))
        user_id, email, password = operators[0]
        operator_headers = login(two, email, password)
        answer = httpx.get(
            f"{two}/image/GetImageInfo",
            params={"providerName": LATE_PROVIDER},
            headers=operator_headers,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        claimed = answer.json()["Data"]
        assert claimed is not None and claimed["ProgramId"] in late
        # The dead process's run is Dagster's: it ends, and the other API answers it.
        wait_for(
            lambda: run_status(topology, orphan) in FINISHED,
            120,
            "the dead API's run",
            topology.logs,
        )
        answer = httpx.get(
            f"{two}/filewatcher/runs/{orphan}", headers=admin, timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "no_rows", "run_id": orphan}
        assert_went_through_the_queue(topology, orphan)
        finish(two, operator_headers, user_id, claimed)  # rows for the next export
        timings["api killed"] = time.monotonic() - step

        # 5. The run worker killed mid-export. The test holds the export lock as a
        # second exporter would, so the run is caught inside its export transaction.
        step = time.monotonic()
        before = set(api_manifest_runs(topology))
        doomed_answer: dict[str, Any] = {}

        def export_on_two() -> None:
            try:
                response = httpx.post(
                    f"{two}/batchjob/run", headers=admin, timeout=HTTP_TIMEOUT
                )
                doomed_answer.update(final_answer(two, admin, response))
            except (AssertionError, httpx.HTTPError) as exc:
                doomed_answer["error"] = repr(exc)

        with export_lock(db_url) as holder:
            request = threading.Thread(target=export_on_two)
            request.start()
            [doomed_run] = wait_for(
                lambda: [r for r in api_manifest_runs(topology) if r not in before],
                60,
                "the export run",
                topology.logs,
            )
            wait_for(
                lambda: waiting_for_the_export_lock(holder) == 1,
                120,
                "the run waiting for the export lock",
                topology.logs,
            )
            assert run_status(topology, doomed_run) == DagsterRunStatus.STARTED
            worker = topology.run_worker_pid(doomed_run)
            assert worker is not None, topology.logs()
            killed_at = time.monotonic()
            os.kill(worker, signal.SIGKILL)
            wait_for(
                lambda: run_status(topology, doomed_run) in FINISHED,
                60,
                "the killed run marked finished",
                topology.logs,
            )
            timings["killed run marked failed after"] = time.monotonic() - killed_at
            assert run_status(topology, doomed_run) == DagsterRunStatus.FAILURE
        request.join(timeout=HTTP_TIMEOUT)
        assert doomed_answer.get("status") == "failed", doomed_answer
        assert doomed_answer["run_id"] == doomed_run
        messages = [entry.message for entry in topology.instance.all_logs(doomed_run)]
        assert any(
            f"process for {doomed_run} was terminated by signal 9 (SIGKILL)" in m
            for m in messages
        ), messages
        assert DagsterEventType.RUN_FAILURE in event_times(topology, doomed_run)
        assert worker not in topology.dagster.pids()
        # The rows it had chosen went nowhere; the next run exports them, once.
        assert list(manifests(outbound)) == [by_status["success"]["file"]]
        response = httpx.post(
            f"{two}/batchjob/run", headers=admin, timeout=HTTP_TIMEOUT
        )
        again = final_answer(two, admin, response)
        assert again["status"] == "success", again
        files = assert_every_rendition_in_exactly_one_manifest(db_url, outbound)
        assert set(files) == {by_status["success"]["file"], again["file"]}
        assert {image_id for image_id, _ in files[again["file"]]} == set(
            late[claimed["ProgramId"]]
        )
        timings["run worker killed"] = time.monotonic() - step

        # The sensor ticked all along and never handed the manifest out again.
        assert (
            len(topology.instance.get_runs(RunsFilter(job_name="ingest_manifest"))) == 1
        )
        assert query(
            db_url,
            "SELECT count(*) FROM smartcrop_upload_files WHERE filename = %s",
            (MANIFEST,),
        ) == [(1,)]
    print(
        "topology: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        + f"; {len(claims)} claims"
    )
