"""S3 transfer against a real moto server over HTTP on loopback."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest

from smartcrop.transfer import RemoteFile, TransferError, s3
from smartcrop.transfer.retry import RetryPolicy
from tests.support.s3_server import SECRET_KEY, FlakyHttpFront, free_port, s3_client

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def put(client: Any, bucket: str, key: str, body: bytes = b"x") -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body)


def keys(files: list[RemoteFile]) -> list[str]:
    return [f.key for f in files]


def test_listing_returns_files_under_prefix_oldest_first(s3_bucket):
    client, bucket = s3_bucket
    put(client, bucket, "in/b.xlsx", b"12345")
    put(client, bucket, "in/a.xlsx")
    put(client, bucket, "in/folder/")  # a "folder" marker, not a file
    put(client, bucket, "other/c.xlsx")

    files = s3.list_objects(client, bucket, "in/", page_size=1)

    order = [(f.modified, f.key) for f in files]
    assert order == sorted(order)  # by time, then key (S3 keeps whole seconds)
    assert set(keys(files)) == {"in/a.xlsx", "in/b.xlsx"}
    b = next(f for f in files if f.key == "in/b.xlsx")
    assert (b.name, b.size) == ("b.xlsx", 5)
    assert b.modified.utcoffset() is not None and b.modified.utcoffset().seconds == 0


def test_pagination_sees_every_object(s3_bucket):
    client, bucket = s3_bucket
    for i in range(7):
        put(client, bucket, f"p/{i:02}.xlsx")

    files = s3.list_objects(client, bucket, "p/", page_size=3)

    assert sorted(keys(files)) == [f"p/{i:02}.xlsx" for i in range(7)]


def test_cursor_returns_a_file_added_between_listings_exactly_once(s3_bucket):
    client, bucket = s3_bucket
    put(client, bucket, "in/001.xlsx")
    put(client, bucket, "in/002.xlsx")
    first = s3.list_objects(client, bucket, "in/")
    assert keys(first) == ["in/001.xlsx", "in/002.xlsx"]
    cursor = first[-1]

    put(client, bucket, "in/003.xlsx")  # likely the same second as the cursor
    second = s3.list_objects(
        client, bucket, "in/", since_key=cursor.key, since_last_modified=cursor.modified
    )
    assert keys(second) == ["in/003.xlsx"]

    cursor = second[-1]
    third = s3.list_objects(
        client, bucket, "in/", since_key=cursor.key, since_last_modified=cursor.modified
    )
    assert third == []


def test_cursor_by_key_alone_and_by_time_alone(s3_bucket):
    client, bucket = s3_bucket
    for name in ("a", "b", "c"):
        put(client, bucket, f"in/{name}")
    files = s3.list_objects(client, bucket, "in/")

    after_a = s3.list_objects(client, bucket, "in/", since_key=files[0].key)
    assert keys(after_a) == keys(files[1:])
    newest = max(f.modified for f in files)
    assert s3.list_objects(client, bucket, "in/", since_last_modified=newest) == []


def test_cursor_key_that_vanished(s3_bucket):
    client, bucket = s3_bucket
    put(client, bucket, "in/a")
    put(client, bucket, "in/b")
    a, b = s3.list_objects(client, bucket, "in/")
    client.delete_object(Bucket=bucket, Key=a.key)

    # With the timestamp the cursor still works after its file was deleted ...
    assert keys(
        s3.list_objects(
            client, bucket, "in/", since_key=a.key, since_last_modified=a.modified
        )
    ) == ["in/b"]
    # ... with the key alone it cannot, and says so (as dagster_aws does).
    with pytest.raises(TransferError, match="in/a"):
        s3.list_objects(client, bucket, "in/", since_key=a.key)


def test_upload_then_list_then_download_round_trip(s3_bucket, tmp_path):
    client, bucket = s3_bucket
    data = bytes(range(256)) * 4000  # ~1 MB, several read chunks
    source = tmp_path / "Manifest.csv"
    source.write_bytes(data)

    s3.upload(client, source, bucket, "out/Manifest.csv")
    listed = s3.list_objects(client, bucket, "out/")
    dest = s3.download(client, bucket, "out/Manifest.csv", tmp_path / "dl" / "m.csv")

    assert [(f.key, f.size) for f in listed] == [("out/Manifest.csv", len(data))]
    assert dest == tmp_path / "dl" / "m.csv"
    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.csv"]


def test_download_never_shows_a_partial_file_under_its_final_name(
    s3_bucket, flaky_s3: FlakyHttpFront, tmp_path
):
    client, bucket = s3_bucket
    data = b"0123456789" * 50_000
    put(client, bucket, "in/big.xlsx", data)
    dest = tmp_path / "dl" / "big.xlsx"
    seen_final_early: list[int] = []
    stop = threading.Event()

    def watch() -> None:  # the final name must never hold a short file
        while not stop.is_set():
            if dest.exists() and dest.stat().st_size != len(data):
                seen_final_early.append(dest.stat().st_size)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        flaky_s3.truncate_next(1, after_bytes=100_000)
        with pytest.raises(TransferError, match="download s3://"):
            s3.download(
                s3_client(flaky_s3.endpoint_url),
                bucket,
                "in/big.xlsx",
                dest,
                retry=RetryPolicy(attempts=1),
            )
        assert not dest.exists()
        assert list(dest.parent.iterdir()) == []  # no .part left behind either

        flaky_s3.truncate_next(1, after_bytes=100_000)
        s3.download(
            s3_client(flaky_s3.endpoint_url), bucket, "in/big.xlsx", dest, retry=FAST
        )
    finally:
        stop.set()
        watcher.join()

    assert flaky_s3.truncations_served == 2
    assert dest.read_bytes() == data
    assert list(dest.parent.iterdir()) == [dest]
    assert seen_final_early == []


def test_server_errors_are_retried_with_a_warning_without_secrets(
    s3_bucket, flaky_s3: FlakyHttpFront, tmp_path, caplog
):
    client, bucket = s3_bucket
    put(client, bucket, "in/a.xlsx", b"abc")
    flaky = s3_client(flaky_s3.endpoint_url)
    caplog.set_level(logging.WARNING, logger="smartcrop.transfer")

    flaky_s3.fail_next(2)
    files = s3.list_objects(flaky, bucket, "in/", retry=FAST)
    flaky_s3.fail_next(2, status=503, code="SlowDown")
    dest = s3.download(flaky, bucket, "in/a.xlsx", tmp_path / "a.xlsx", retry=FAST)
    source = tmp_path / "up.csv"
    source.write_bytes(b"a,b\n")
    flaky_s3.fail_next(2)  # PutObject sends Expect: 100-continue; answered with 500
    s3.upload(flaky, source, bucket, "out/up.csv", retry=FAST)

    assert keys(files) == ["in/a.xlsx"]
    assert dest.read_bytes() == b"abc"
    assert client.get_object(Bucket=bucket, Key="out/up.csv")["Body"].read() == b"a,b\n"
    assert flaky_s3.failures_served == 6
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retries) == 6
    first, second = retries[0].getMessage(), retries[1].getMessage()
    assert "attempt 1 of 3" in first and "retrying in 0.01s" in first
    assert "attempt 2 of 3" in second and "retrying in 0.02s" in second  # doubled
    assert all(SECRET_KEY not in r.getMessage() for r in caplog.records)


def test_gives_up_after_the_configured_attempts(
    s3_bucket, flaky_s3: FlakyHttpFront, tmp_path
):
    _, bucket = s3_bucket
    flaky_s3.fail_next(10)

    with pytest.raises(TransferError) as failure:
        s3.list_objects(s3_client(flaky_s3.endpoint_url), bucket, "in/", retry=FAST)

    assert flaky_s3.requests == 3  # our policy decides, botocore adds no retries
    assert "after 3 attempt(s)" in str(failure.value)
    assert "InternalError" in str(failure.value)
    assert SECRET_KEY not in str(failure.value)


def test_permanent_errors_are_not_retried(
    s3_bucket, flaky_s3: FlakyHttpFront, tmp_path
):
    _, bucket = s3_bucket
    flaky = s3_client(flaky_s3.endpoint_url)

    with pytest.raises(TransferError, match="NoSuchKey"):
        s3.download(flaky, bucket, "in/missing.xlsx", tmp_path / "m.xlsx", retry=FAST)
    assert flaky_s3.requests == 1
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(TransferError, match="FileNotFoundError"):
        s3.upload(flaky, tmp_path / "nope.csv", bucket, "out/nope.csv", retry=FAST)
    assert flaky_s3.requests == 1  # failed locally, nothing sent


def test_unreachable_endpoint_fails_with_transfer_error(tmp_path):
    # Nothing listens on a port we just had the kernel hand out and closed.
    client = s3_client(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransferError, match="after 2 attempt"):
        s3.list_objects(
            client, "bucket", "", retry=RetryPolicy(attempts=2, base_delay=0.01)
        )


def test_make_s3_client_uses_path_style_for_custom_endpoints(s3_server):
    client = s3.make_s3_client(
        endpoint_url=s3_server, region="eu-west-1", access_key="a", secret_key="b"
    )
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.s3["addressing_style"] == "path"


def test_naive_cursor_time_is_taken_as_utc(s3_bucket):
    client, bucket = s3_bucket
    put(client, bucket, "in/a")
    (a,) = s3.list_objects(client, bucket, "in/")
    naive = a.modified.replace(tzinfo=None)

    assert s3.list_objects(client, bucket, "in/", since_last_modified=naive) == []
    earlier = naive.replace(microsecond=0) - timedelta(seconds=1)
    assert keys(
        s3.list_objects(client, bucket, "in/", since_last_modified=earlier)
    ) == ["in/a"]
