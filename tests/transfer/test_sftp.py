"""SFTP transfer against a real asyncssh server over SSH on loopback."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from datetime import UTC, datetime

import asyncssh
import pytest

from smartcrop.transfer import TransferError, sftp
from smartcrop.transfer.retry import RetryPolicy
from smartcrop.transfer.sftp import SftpEndpoint
from tests.support.connect_proxy import ConnectProxy
from tests.support.sftp_server import SftpTestServer

FAST = RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1)


def remote_file(server: SftpTestServer, path: str, data: bytes) -> None:
    local = server.path(path)
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(data)


def test_list_files_returns_regular_files_with_size_and_utc_mtime(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint
):
    remote_file(sftp_server, "/in/old.xlsx", b"12345")
    remote_file(sftp_server, "/in/new.xlsx", b"1")
    os.utime(sftp_server.path("/in/old.xlsx"), (1_700_000_000, 1_700_000_000))
    os.utime(sftp_server.path("/in/new.xlsx"), (1_700_000_100, 1_700_000_100))
    sftp_server.path("/in/folder").mkdir()
    sftp_server.path("/in/link.xlsx").symlink_to(sftp_server.path("/in/old.xlsx"))

    with sftp.sftp_session(sftp_endpoint) as client:
        files = sftp.list_files(client, "/in")

    assert [(f.name, f.path, f.size) for f in files] == [
        ("old.xlsx", "/in/old.xlsx", 5),
        ("new.xlsx", "/in/new.xlsx", 1),
    ]
    assert files[0].modified == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert sftp.list_remote_files(sftp_endpoint, "/in", retry=FAST) == files


def test_upload_then_list_then_download(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    data = os.urandom(700_000)
    source = tmp_path / "SmartCrop_Program_20250101_000000.csv"
    source.write_bytes(data)
    sftp_server.path("/out").mkdir()

    remote = sftp.upload(sftp_endpoint, source, "/out", source.name, retry=FAST)
    listed = sftp.list_remote_files(sftp_endpoint, "/out", retry=FAST)
    dest = sftp.download(sftp_endpoint, remote, tmp_path / "dl" / "copy.csv")

    assert remote == f"/out/{source.name}"
    assert [(f.name, f.size) for f in listed] == [(source.name, len(data))]
    assert sftp_server.path(remote).read_bytes() == data
    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.csv"]


def test_upload_replaces_an_existing_file(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    remote_file(sftp_server, "/out/a.csv", b"old contents")
    source = tmp_path / "a.csv"
    source.write_bytes(b"new")

    sftp.upload(sftp_endpoint, source, "/out", "a.csv", retry=FAST)

    assert sftp_server.path("/out/a.csv").read_bytes() == b"new"
    assert sorted(p.name for p in sftp_server.path("/out").iterdir()) == ["a.csv"]


def test_interrupted_download_leaves_nothing_under_the_final_name(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    remote_file(sftp_server, "/in/big.xlsx", os.urandom(2_000_000))
    sftp_server.drop_after(500_000, direction="read", times=1)
    dest = tmp_path / "dl" / "big.xlsx"

    with pytest.raises(TransferError, match=r"download sftp://127\.0\.0\.1:\d+/in/big"):
        sftp.download(
            sftp_endpoint, "/in/big.xlsx", dest, retry=RetryPolicy(attempts=1)
        )

    assert sftp_server.drops == 1
    assert list(dest.parent.iterdir()) == []  # neither big.xlsx nor big.xlsx.part


def test_download_dropped_mid_file_is_retried_on_a_new_connection(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path, caplog
):
    data = os.urandom(2_000_000)
    remote_file(sftp_server, "/in/big.xlsx", data)
    sftp_server.drop_after(500_000, direction="read", times=2)
    caplog.set_level(logging.WARNING, logger="smartcrop.transfer")

    dest = tmp_path / "dl" / "big.xlsx"
    assert sftp.download(sftp_endpoint, "/in/big.xlsx", dest, retry=FAST) == dest

    assert dest.read_bytes() == data
    assert sftp_server.drops == 2
    assert sftp_server.logins == 3  # one fresh connection per attempt
    assert list(dest.parent.iterdir()) == [dest]
    warnings = [r for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert len(warnings) == 2
    assert all(sftp_server.password not in r.getMessage() for r in caplog.records)


def test_upload_dropped_mid_file_is_retried_and_never_half_visible(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    data = os.urandom(1_500_000)
    source = tmp_path / "export.csv"
    source.write_bytes(data)
    sftp_server.path("/out").mkdir()
    final = sftp_server.path("/out/export.csv")

    # Every attempt dropped: the reader's folder never shows export.csv.
    sftp_server.drop_after(300_000, direction="write", times=2)
    with pytest.raises(TransferError, match="after 2 attempt"):
        sftp.upload(
            sftp_endpoint,
            source,
            "/out",
            "export.csv",
            retry=RetryPolicy(attempts=2, base_delay=0.02),
        )
    assert not final.exists()

    # One drop, then success: the complete file appears, the .part is gone.
    sftp_server.drop_after(300_000, direction="write", times=1)
    sftp.upload(sftp_endpoint, source, "/out", "export.csv", retry=FAST)
    assert final.read_bytes() == data
    assert sorted(p.name for p in final.parent.iterdir()) == ["export.csv"]


def test_server_restarted_mid_sequence_download_is_retried(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    remote_file(sftp_server, "/in/a.xlsx", b"first")
    remote_file(sftp_server, "/in/b.xlsx", b"second")
    first = sftp.download(sftp_endpoint, "/in/a.xlsx", tmp_path / "a.xlsx")

    sftp_server.stop()
    assert not sftp_server.running
    restart = threading.Timer(0.4, sftp_server.start)
    restart.start()
    started = time.monotonic()
    try:
        second = sftp.download(
            sftp_endpoint,
            "/in/b.xlsx",
            tmp_path / "b.xlsx",
            retry=RetryPolicy(attempts=6, base_delay=0.1, max_delay=0.4),
        )
    finally:
        restart.join()

    assert time.monotonic() - started >= 0.4  # it really waited for the restart
    assert first.read_bytes() == b"first"
    assert second.read_bytes() == b"second"


def test_server_down_for_good_gives_a_clear_error(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    sftp_server.stop()

    with pytest.raises(TransferError) as failure:
        sftp.download(sftp_endpoint, "/in/a.xlsx", tmp_path / "a.xlsx", retry=FAST)

    message = str(failure.value)
    assert f"127.0.0.1:{sftp_server.port}" in message
    assert "after 3 attempt(s)" in message


def test_wrong_password_names_the_host_not_the_password_and_is_not_retried(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path, caplog
):
    wrong = dataclasses.replace(sftp_endpoint, password="Wr0ng-Passw0rd-xyz")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(TransferError) as failure:
        sftp.download(wrong, "/in/a.xlsx", tmp_path / "a.xlsx", retry=FAST)

    message = str(failure.value)
    assert f"127.0.0.1:{sftp_server.port}" in message
    assert "refused" in message
    assert "Wr0ng-Passw0rd-xyz" not in message
    assert "Wr0ng-Passw0rd-xyz" not in repr(wrong)
    assert all("Wr0ng-Passw0rd-xyz" not in r.getMessage() for r in caplog.records)
    assert sftp_server.failed_logins == 1  # retrying would only risk a lockout


def test_missing_remote_file_is_not_retried(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    dest = tmp_path / "dl" / "n.xlsx"
    with pytest.raises(TransferError, match="FileNotFoundError"):
        sftp.download(sftp_endpoint, "/in/nope.xlsx", dest, retry=FAST)
    assert sftp_server.logins == 1
    assert list(dest.parent.iterdir()) == []


def test_known_hosts_accepts_the_right_key_and_rejects_others(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, tmp_path
):
    remote_file(sftp_server, "/in/a.xlsx", b"data")
    good = sftp_server.write_known_hosts(tmp_path / "known_hosts")
    pinned = dataclasses.replace(sftp_endpoint, known_hosts=str(good))
    assert sftp.download(pinned, "/in/a.xlsx", tmp_path / "a.xlsx").read_bytes() == (
        b"data"
    )

    other_key = asyncssh.generate_private_key("ssh-ed25519")
    other = other_key.export_public_key("openssh").decode().split()
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sftp_server.port} {other[0]} {other[1]}\n")
    with pytest.raises(TransferError, match="does not match"):
        sftp.download(
            dataclasses.replace(sftp_endpoint, known_hosts=str(wrong)),
            "/in/a.xlsx",
            tmp_path / "b.xlsx",
            retry=FAST,
        )

    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(TransferError, match="not in"):
        sftp.download(
            dataclasses.replace(sftp_endpoint, known_hosts=str(empty)),
            "/in/a.xlsx",
            tmp_path / "c.xlsx",
            retry=FAST,
        )
    assert sftp_server.logins == 1  # only the pinned, matching connection logged in


def test_unknown_host_key_is_accepted_and_logged_when_not_pinned(
    sftp_server: SftpTestServer, sftp_endpoint: SftpEndpoint, caplog
):
    caplog.set_level(logging.WARNING, logger="smartcrop.transfer")

    with sftp.sftp_session(sftp_endpoint) as client:
        assert sftp.list_files(client, "/") == []

    fingerprint = sftp_server.host_key.get_fingerprint("sha256")
    assert any(fingerprint in r.getMessage() for r in caplog.records)


def test_transfers_through_an_http_connect_proxy(
    sftp_server: SftpTestServer,
    sftp_endpoint: SftpEndpoint,
    connect_proxy: ConnectProxy,
    tmp_path,
):
    remote_file(sftp_server, "/in/a.xlsx", b"via proxy")
    proxied = dataclasses.replace(
        sftp_endpoint, proxy_host=connect_proxy.host, proxy_port=connect_proxy.port
    )

    dest = sftp.download(proxied, "/in/a.xlsx", tmp_path / "a.xlsx", retry=FAST)

    assert dest.read_bytes() == b"via proxy"
    assert connect_proxy.tunnels == [f"127.0.0.1:{sftp_server.port}"]


def test_proxy_refusing_connect_is_a_clear_error(
    sftp_endpoint: SftpEndpoint, connect_proxy: ConnectProxy, tmp_path
):
    connect_proxy.refuse_with = "403 Forbidden"
    proxied = dataclasses.replace(
        sftp_endpoint, proxy_host=connect_proxy.host, proxy_port=connect_proxy.port
    )

    with pytest.raises(TransferError, match="403 Forbidden") as failure:
        sftp.download(proxied, "/in/a.xlsx", tmp_path / "a.xlsx", retry=FAST)

    assert f"proxy 127.0.0.1:{connect_proxy.port}" in str(failure.value)
    assert connect_proxy.tunnels == []


def test_upload_rejects_names_with_folders(sftp_endpoint: SftpEndpoint, tmp_path):
    source = tmp_path / "a.csv"
    source.write_bytes(b"x")
    with pytest.raises(ValueError, match="plain file name"):
        sftp.upload(sftp_endpoint, source, "/out", "../escape.csv")
