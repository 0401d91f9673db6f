"""The steps of the production-topology test (tests/deploy/test_topology.py), in the
order it takes them on one deployment; each builds on the ones before."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from tests.deploy.topology_checks import (
    FINISHED,
    HTTP_TIMEOUT,
    LATE_PROVIDER,
    MANIFEST,
    OPERATORS,
    PROGRAMMES,
    PROVIDER,
    api_manifest_runs,
    assert_every_rendition_in_exactly_one_manifest,
    assert_went_through_the_queue,
    event_times,
    export_lock,
    final_answer,
    finish,
    login,
    manifests,
    run_status,
    timelines,
    waiting_for_the_export_lock,
)
from tests.support.export_setup import query
from tests.support.manifest_samples import EXPECTED, SAMPLES, upload_rows
from tests.support.topology import Topology, wait_for


@dataclass
class Deployment:
    """What the steps share: the running topology and its two API processes."""

    topology: Topology
    db_url: str
    one: str  # the first API process's base URL
    two: str  # the second's
    admin: dict[str, str]  # an admin's Authorization header
    timings: dict[str, float]  # seconds per step, printed at the end


def a_manifest_is_ingested_by_the_sensor(
    d: Deployment, tmp_path: Path, staging: Path
) -> None:
    topology, db_url, timings = d.topology, d.db_url, d.timings
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


def operators_claim_on_one_api_and_save_on_the_other(
    d: Deployment,
    operators: list[tuple[int, str, str]],
    programmes: dict[str, list[int]],
) -> list[tuple[str, list[int], int]]:
    db_url, one, two, timings = d.db_url, d.one, d.two, d.timings
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

    threads = [threading.Thread(target=operator, args=(i,)) for i in range(OPERATORS)]
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
    return claims


def two_exports_at_once_go_through_the_queue(
    d: Deployment, outbound: Path, programmes: dict[str, list[int]]
) -> dict[Any, dict[str, Any]]:
    topology, db_url, one, two, admin = d.topology, d.db_url, d.one, d.two, d.admin
    timings = d.timings
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
        dumped = httpx.post(f"{two}/dumpdata/run", headers=admin, timeout=HTTP_TIMEOUT)
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
    return by_status


def an_api_process_killed_mid_request(
    d: Deployment,
    operators: list[tuple[int, str, str]],
    late: dict[str, list[int]],
) -> dict[str, Any]:
    topology, one, two, admin, timings = d.topology, d.one, d.two, d.admin, d.timings
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
    answer = httpx.get(f"{two}/filewatcher/runs/{orphan}", headers=admin, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "no_rows", "run_id": orphan}
    assert_went_through_the_queue(topology, orphan)
    finish(two, operator_headers, user_id, claimed)  # rows for the next export
    timings["api killed"] = time.monotonic() - step
    return claimed


def the_run_worker_killed_mid_export(
    d: Deployment,
    outbound: Path,
    by_status: dict[Any, dict[str, Any]],
    late: dict[str, list[int]],
    claimed: dict[str, Any],
) -> None:
    topology, db_url, two, admin, timings = (
        d.topology,
        d.db_url,
        d.two,
        d.admin,
        d.timings,
    )
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
    response = httpx.post(f"{two}/batchjob/run", headers=admin, timeout=HTTP_TIMEOUT)
    again = final_answer(two, admin, response)
    assert again["status"] == "success", again
    files = assert_every_rendition_in_exactly_one_manifest(db_url, outbound)
    assert set(files) == {by_status["success"]["file"], again["file"]}
    assert {image_id for image_id, _ in files[again["file"]]} == set(
        late[claimed["ProgramId"]]
    )
    timings["run worker killed"] = time.monotonic() - step
