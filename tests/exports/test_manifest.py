"""The nightly manifest against a real database, a moto S3 server and an SFTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smartcrop.db import get_engine
from smartcrop.exports import manifest
from smartcrop.exports.verify import verify_manifest
from smartcrop.transfer.retry import RetryPolicy
from tests.exports.scenario import EXPECTED, EXPORTED, NAME, NOW, scenario
from tests.support.export_setup import (
    add_image,
    add_user,
    base_config,
    ftp_sections,
    merge,
    query,
    s3_sections,
    set_qa_disabled,
    settings_from,
    stamps,
    utc,
    write_config,
)

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> dict:
    return base_config(tmp_path, db_url)


def test_manifest_is_the_expected_csv_and_rows_are_stamped(
    db_url: str, config: dict, tmp_path: Path
) -> None:
    scenario(db_url)
    settings = settings_from(config)

    result = manifest.export_manifest(settings, get_engine(db_url), now=NOW)

    assert result.response() == {"status": "success", "file": NAME}
    assert (result.rows, result.images, result.sent_to) == (6, 3, ())
    written = tmp_path / "outbound" / NAME
    assert written.read_bytes() == EXPECTED.encode("utf-8")
    assert sorted(p.name for p in written.parent.iterdir()) == [NAME]
    # Stamped in one transaction: the same file name and the same export time.
    rows = query(
        db_url,
        "SELECT id, outputfilename, exportedat FROM smartcrop_programimage"
        " WHERE outputfilename = %s ORDER BY id",
        (NAME,),
    )
    assert {r[0] for r in rows} == EXPORTED
    assert len({r[2] for r in rows}) == 1
    assert stamps(db_url)[401] == "SmartCrop_Manifest_20261120_020000.csv"
    assert {stamps(db_url)[i] for i in (301, 501, 601)} == {None}
    # The resolved image type was stored, the unknown language left empty.
    assert query(
        db_url,
        "SELECT imagetypeid, languageid FROM smartcrop_programimage WHERE id=102",
    ) == [(1, None)]
    check = verify_manifest(get_engine(db_url), written)
    assert (check.rows, check.every_row_stamped, check.stamped_once) == (6, True, True)


def test_no_rows_writes_no_file_and_a_second_run_exports_nothing_again(
    db_url: str, config: dict, tmp_path: Path
) -> None:
    settings = settings_from(config)
    assert manifest.export_manifest(settings, get_engine(db_url)).response() == {
        "status": "no_rows"
    }
    assert list((tmp_path / "outbound").iterdir()) == []

    scenario(db_url)
    assert (
        manifest.export_manifest(settings, get_engine(db_url), now=NOW).status
        == "success"
    )
    again = manifest.export_manifest(
        settings, get_engine(db_url), now=utc(2026, 11, 27, 2, 0, 0)
    )
    assert again.response() == {"status": "no_rows"}
    assert [p.name for p in (tmp_path / "outbound").iterdir()] == [NAME]


def test_manifest_goes_to_s3_and_sftp(
    db_url: str, config: dict, s3_server: str, s3_bucket, sftp_server
) -> None:
    scenario(db_url)
    client, bucket = s3_bucket
    settings = settings_from(
        merge(
            merge(config, s3_sections(s3_server, bucket)),
            {
                **ftp_sections(sftp_server),
                "smartcrop_filewatcher_batchjob": {
                    "targets": ["s3", "sftp"],
                    "s3_prefix": "manifests/nightly/",
                },
            },
        )
    )

    result = manifest.export_manifest(settings, get_engine(db_url), now=NOW, retry=FAST)

    assert result.status == "success"
    body = client.get_object(Bucket=bucket, Key=f"manifests/nightly/{NAME}")["Body"]
    assert body.read() == EXPECTED.encode()
    assert sftp_server.path(f"/outbound/{NAME}").read_bytes() == EXPECTED.encode()
    assert [p.name for p in sftp_server.path("/outbound").iterdir()] == [NAME]
    assert result.sent_to == (
        f"s3://{bucket}/manifests/nightly/{NAME}",
        f"sftp://{sftp_server.host}:{sftp_server.port}/outbound/{NAME}",
    )
    assert {i for i, f in stamps(db_url).items() if f == NAME} == EXPORTED


def test_failed_sftp_upload_stamps_nothing_and_the_next_run_sends_the_rows(
    db_url: str, config: dict, tmp_path: Path, sftp_server
) -> None:
    scenario(db_url)
    settings = settings_from(
        merge(
            config,
            {
                **ftp_sections(sftp_server),
                "smartcrop_filewatcher_batchjob": {"targets": ["sftp"]},
            },
        )
    )
    sftp_server.stop()

    failed = manifest.export_manifest(settings, get_engine(db_url), now=NOW, retry=FAST)

    assert failed.response() == {"status": "failed"}
    assert failed.error and str(sftp_server.port) in failed.error
    assert {i for i, f in stamps(db_url).items() if f is not None} == {401}
    # The undelivered file is not left looking like a manifest.
    assert list((tmp_path / "outbound").iterdir()) == []

    sftp_server.start()
    later = utc(2026, 11, 26, 2, 5, 0)
    sent = manifest.export_manifest(settings, get_engine(db_url), now=later, retry=FAST)
    name = "SmartCrop_Manifest_20261126_020500.csv"
    assert sent.response() == {"status": "success", "file": name}
    assert sftp_server.path(f"/outbound/{name}").read_bytes() == EXPECTED.encode()
    assert {i for i, f in stamps(db_url).items() if f == name} == EXPORTED
    # Never twice: the next run has nothing left.
    third = manifest.export_manifest(settings, get_engine(db_url), retry=FAST)
    assert third.status == "no_rows"
    assert [p.name for p in sftp_server.path("/outbound").iterdir()] == [name]


def test_failed_s3_upload_stamps_nothing_and_the_next_run_sends_the_rows(
    db_url: str, config: dict, flaky_s3, s3_bucket
) -> None:
    scenario(db_url)
    client, bucket = s3_bucket
    settings = settings_from(
        merge(
            merge(config, s3_sections(flaky_s3.endpoint_url, bucket)),
            {"smartcrop_filewatcher_batchjob": {"targets": ["s3"]}},
        )
    )
    flaky_s3.fail_next(10)

    failed = manifest.export_manifest(settings, get_engine(db_url), now=NOW, retry=FAST)

    assert failed.status == "failed"
    assert flaky_s3.failures_served == FAST.attempts
    assert {i for i, f in stamps(db_url).items() if f is not None} == {401}
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    flaky_s3.fail_next(0)
    sent = manifest.export_manifest(settings, get_engine(db_url), now=NOW, retry=FAST)
    assert sent.response() == {"status": "success", "file": NAME}
    key = f"manifests/{NAME}"
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == (
        EXPECTED.encode()
    )
    assert {i for i, f in stamps(db_url).items() if f == NAME} == EXPORTED


CRASH_AFTER_UPLOAD = """
import os, sys
from datetime import datetime, timezone
from smartcrop.db import get_engine
from smartcrop.exports import manifest
from smartcrop.settings import load_settings
from smartcrop.transfer.retry import RetryPolicy

manifest.export_manifest(
    load_settings(),
    get_engine(sys.argv[1]),
    now=datetime(2026, 11, 26, 2, 0, 0, tzinfo=timezone.utc),
    retry=RetryPolicy(attempts=1),
    # The file is on the server; the process dies before the stamp is committed.
    after_upload=lambda path: os._exit(17),
)
"""


def test_a_crash_between_upload_and_stamp_loses_no_row_and_stamps_none_twice(
    db_url: str, config: dict, tmp_path: Path, sftp_server
) -> None:
    scenario(db_url)
    full = merge(
        config,
        {
            **ftp_sections(sftp_server),
            "smartcrop_filewatcher_batchjob": {"targets": ["sftp"]},
        },
    )
    path = write_config(tmp_path / "crash.yml", full)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_UPLOAD, db_url],
        cwd=REPO_ROOT,
        env={**os.environ, "SMARTCROP_CONFIG": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 17, crashed.stderr
    # Delivered, but the stamp never committed.
    assert sftp_server.path(f"/outbound/{NAME}").read_bytes() == EXPECTED.encode()
    assert {i for i, f in stamps(db_url).items() if f is not None} == {401}

    # The next run does not wait for the dead one's lock, and sends the rows again
    # under a new name; only that name is stamped.
    later = utc(2026, 11, 26, 2, 10, 0)
    rerun = manifest.export_manifest(
        settings_from(full), get_engine(db_url), now=later, retry=FAST
    )
    name = "SmartCrop_Manifest_20261126_021000.csv"
    assert rerun.response() == {"status": "success", "file": name}
    assert sftp_server.path(f"/outbound/{name}").read_bytes() == EXPECTED.encode()
    assert {i for i, f in stamps(db_url).items() if f == name} == EXPORTED
    assert query(
        db_url,
        "SELECT count(*) FROM smartcrop_programimage WHERE outputfilename = %s",
        (NAME,),
    ) == [(0,)]


def test_two_exports_at_once_never_share_a_row(db_url: str, config: dict) -> None:
    scenario(db_url)
    settings = settings_from(config)
    uploaded, release = threading.Event(), threading.Event()
    results: dict[str, manifest.ExportResult] = {}

    def hold(_: Path) -> None:
        uploaded.set()
        assert release.wait(30)

    def first() -> None:
        results["first"] = manifest.export_manifest(
            settings, get_engine(db_url), now=NOW, after_upload=hold
        )

    def second() -> None:
        results["second"] = manifest.export_manifest(
            settings, get_engine(db_url), now=utc(2026, 11, 26, 2, 0, 1)
        )

    one = threading.Thread(target=first)
    one.start()
    assert uploaded.wait(30)
    two = threading.Thread(target=second)
    two.start()
    two.join(1.0)
    assert two.is_alive(), "the second export must wait for the first one's lock"
    release.set()
    one.join(30)
    two.join(30)

    assert results["first"].response() == {"status": "success", "file": NAME}
    assert results["second"].response() == {"status": "no_rows"}
    assert {i for i, f in stamps(db_url).items() if f == NAME} == EXPORTED


def test_max_rows_restricts_whole_images(db_url: str, config: dict) -> None:
    # Renditions per image, in manifest order: 3, 2, 3.
    add_image(db_url, image_id=1, program_id="EP1", ratios=("16x9", "4x3", "1x1"))
    add_image(db_url, image_id=2, program_id="EP2", ratios=("16x9", "4x3"))
    add_image(db_url, image_id=3, program_id="EP3", ratios=("16x9", "4x3", "1x1"))
    settings = settings_from(
        merge(config, {"smartcrop_filewatcher_batchjob": {"max_rows": 6}})
    )

    first = manifest.export_manifest(settings, get_engine(db_url), now=NOW)
    second = manifest.export_manifest(
        settings, get_engine(db_url), now=utc(2026, 11, 27)
    )

    assert (first.rows, first.images) == (5, 2)  # a third image would not fit whole
    assert (second.rows, second.images) == (3, 1)
    assert stamps(db_url) == {1: first.file, 2: first.file, 3: second.file}


def test_an_image_larger_than_max_rows_still_goes_alone(
    db_url: str, config: dict
) -> None:
    add_image(db_url, image_id=1, program_id="EP1")  # five renditions
    add_image(db_url, image_id=2, program_id="EP2", ratios=("16x9",))
    settings = settings_from(
        merge(config, {"smartcrop_filewatcher_batchjob": {"max_rows": 2}})
    )

    first = manifest.export_manifest(settings, get_engine(db_url), now=NOW)

    assert (first.rows, first.images) == (5, 1)
    assert stamps(db_url) == {1: first.file, 2: None}


def test_empty_max_rows_means_every_row(db_url: str, config: dict) -> None:
    for n in range(1, 5):
        add_image(db_url, image_id=n, program_id=f"EP{n}")
    settings = settings_from(
        merge(config, {"smartcrop_filewatcher_batchjob": {"max_rows": ""}})
    )
    assert manifest.export_manifest(settings, get_engine(db_url), now=NOW).rows == 20


def test_with_qa_disabled_images_waiting_in_qa_are_completed_and_exported(
    db_url: str, config: dict
) -> None:
    olive = add_user(db_url, "Olive Operator")
    waiting = add_image(
        db_url, image_id=7, program_id="SH7", status=2, cropped_by=olive
    )
    settings = settings_from(config)

    # QA enabled: the image waits for its review and is not exported.
    assert manifest.export_manifest(settings, get_engine(db_url)).status == "no_rows"
    set_qa_disabled(db_url, True)
    result = manifest.export_manifest(settings, get_engine(db_url), now=NOW)

    assert result.status == "success"
    assert result.completed_from_qa == 1
    assert query(
        db_url,
        "SELECT status, currentstate, completedby, completedat IS NOT NULL,"
        " outputfilename FROM smartcrop_programimage WHERE id = %s",
        (waiting,),
    ) == [(3, 0, olive, True, NAME)]
    assert query(
        db_url,
        "SELECT action, fromstatus, fromstate, tostatus, tostate, userid"
        " FROM smartcrop_programimage_audit WHERE programimageid = %s",
        (waiting,),
    ) == [("qa_skipped", 2, 0, 3, 0, None)]
    written = Path(config["smartcrop_filewatcher_batchjob"]["output_dir"]) / NAME
    content = written.read_bytes().decode("utf-8")
    assert content.count("\r\nSH7,") == 5
    assert ",Olive Operator," in content


def test_verification_notices_a_file_that_does_not_match_the_stamps(
    db_url: str, config: dict, tmp_path: Path
) -> None:
    scenario(db_url)
    result = manifest.export_manifest(
        settings_from(config), get_engine(db_url), now=NOW
    )
    assert result.path is not None
    lines = result.path.read_bytes().split(b"\r\n")
    tampered = tmp_path / "copy" / NAME
    tampered.parent.mkdir()
    # One row dropped, another repeated.
    tampered.write_bytes(b"\r\n".join([*lines[:-3], lines[-3], lines[-3], b""]))

    check = verify_manifest(get_engine(db_url), tampered)

    assert check.stamped_not_in_file == 1
    assert check.duplicates == 1
    assert not check.every_row_stamped
    assert not check.stamped_once
