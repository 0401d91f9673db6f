"""Pytest fixtures for real transfer endpoints on loopback (S3 via moto, SFTP, proxy).

Registered from the root ``tests/conftest.py`` via ``pytest_plugins``. Everything binds
127.0.0.1 on kernel-chosen ports and uses unique buckets and tmp folders, so it is safe
under pytest-xdist (each worker gets its own moto server).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartcrop.transfer.sftp import SftpEndpoint
from tests.support.connect_proxy import ConnectProxy
from tests.support.s3_server import (
    FlakyHttpFront,
    empty_and_delete_bucket,
    s3_client,
    start_moto_server,
    unique_bucket_name,
)
from tests.support.sftp_server import SftpTestServer

__all__ = [
    "connect_proxy",
    "flaky_s3",
    "s3_bucket",
    "s3_server",
    "sftp_endpoint",
    "sftp_server",
]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a moto S3 server (one per session / xdist worker)."""
    server = start_moto_server(tmp_path_factory.mktemp("moto"))
    try:
        yield server.endpoint_url
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> Iterator[tuple[Any, str]]:
    """``(client, bucket)``: a fresh, uniquely named, empty bucket on moto."""
    client = s3_client(s3_server)
    bucket = unique_bucket_name()
    client.create_bucket(Bucket=bucket)
    yield client, bucket
    empty_and_delete_bucket(client, bucket)


@pytest.fixture
def flaky_s3(s3_server: str) -> Iterator[FlakyHttpFront]:
    """An HTTP relay in front of the moto server that fails/truncates on request.

    Point a client at ``flaky_s3.endpoint_url`` (``s3_client(url)``); buckets are the
    moto server's, so ``s3_bucket`` objects are visible through it.
    """
    host, port = s3_server.removeprefix("http://").rsplit(":", 1)
    front = FlakyHttpFront((host, int(port))).start()
    yield front
    front.stop()


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpTestServer]:
    """A running SFTP server whose ``/`` is ``sftp_server.root`` (a tmp folder)."""
    server = SftpTestServer(root=tmp_path / "sftp-root").start()
    yield server
    server.shutdown()


@pytest.fixture
def sftp_endpoint(sftp_server: SftpTestServer) -> SftpEndpoint:
    """Client settings for ``sftp_server`` (unverified host key, short timeout)."""
    return SftpEndpoint(
        host=sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.username,
        password=sftp_server.password,
        timeout=5.0,
    )


@pytest.fixture
def connect_proxy() -> Iterator[ConnectProxy]:
    """An HTTP CONNECT proxy on loopback; ``.tunnels`` lists the targets it served."""
    proxy = ConnectProxy().start()
    yield proxy
    proxy.stop()
