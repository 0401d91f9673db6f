"""The one status rule of run-local, download-s3 and download-sftp (contract 4.9)."""

from __future__ import annotations

import pytest

from pipelines.submit import DOWNLOAD, LOCAL, ingestion_status

INGESTED = {"status": "ingested"}
SKIPPED = {"status": "skipped"}
FAILED = {"status": "failed", "error": "not a readable workbook"}


@pytest.mark.parametrize("endpoint", [LOCAL, DOWNLOAD])
def test_the_endpoints_fail_alike(endpoint: str) -> None:
    # A run that failed, or a bad file in a batch whose run succeeded.
    assert ingestion_status(endpoint, [INGESTED], ["boom"], ran=True) == "failed"
    assert ingestion_status(endpoint, [FAILED, INGESTED], [], ran=True) == "failed"
    assert ingestion_status(endpoint, [INGESTED, SKIPPED], [], ran=True) == "success"


def test_nothing_new_is_success_for_run_local_and_no_files_for_the_downloads() -> None:
    assert ingestion_status(LOCAL, [SKIPPED], [], ran=False) == "success"
    assert ingestion_status(DOWNLOAD, [], [], ran=False) == "no_files"
    # A file refused without a run (run-local: not a file) fails the call too.
    assert ingestion_status(LOCAL, [FAILED], [], ran=False) == "failed"


def test_no_source_listed_is_failed() -> None:
    assert ingestion_status(DOWNLOAD, [], [], ran=False, listing_failed=True) == (
        "failed"
    )
