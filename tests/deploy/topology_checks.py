"""Helpers of the production-topology test: seeding work, calling the APIs, reading the
Dagster runs' events, holding the export lock and reading the manifests written."""

from __future__ import annotations

import csv
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from smartcrop.db import libpq_url
from smartcrop.exports.manifest import EXPORT_LOCK_KEY
from tests.support.export_setup import query
from tests.support.topology import Topology
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


def sensor_tick_gaps(topology: Topology, sensor_name: str) -> list[float]:
    """Seconds between the consecutive ticks of one sensor, from the instance."""
    for state in topology.instance.all_instigator_state():
        if state.instigator_name == sensor_name:
            ticks = topology.instance.get_ticks(
                state.instigator_origin_id, state.selector_id, limit=1000
            )
            times = sorted(tick.timestamp for tick in ticks)
            return [b - a for a, b in itertools.pairwise(times)]
    raise AssertionError(f"no sensor {sensor_name} on the instance")
