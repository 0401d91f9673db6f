"""Rendition storage on both backends (moto S3 server, local folder) and the CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smartcrop.renditions.cdn import cdn_url, rewrite_url
from smartcrop.renditions.storage import (
    LocalStorage,
    S3Storage,
    StorageError,
    public_url,
    rendition_key,
    storage_from_settings,
)
from smartcrop.settings import CdnConfig
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY


def test_the_key_is_provider_programme_image_ratio() -> None:
    assert rendition_key("NBCU", "SH012345670000", 17, "16x9", "png") == (
        "NBCU/SH012345670000/17/16x9.png"
    )
    assert rendition_key("NBCU", "SH1", 17, "1x1", "jpg").endswith("/1x1.jpg")


def test_a_key_cannot_leave_its_folder() -> None:
    key = rendition_key("../..", "a/b", 1, "16x9", "png")
    assert key == "_../a_b/1/16x9.png"
    assert rendition_key("..", ".hidden", 1, "16x9", "png") == "_/hidden/1/16x9.png"
    with pytest.raises(ValueError):
        rendition_key("NBCU", "SH1", 1, "16x9", "gif")


def _roundtrip(storage: Any) -> None:
    key = rendition_key("NBCU", "SH1", 17, "16x9", "png")
    assert storage.get(key) is None
    storage.put(key, b"\x89PNG first", "image/png")
    storage.put(key, b"\x89PNG second", "image/png")
    assert storage.get(key) == b"\x89PNG second"
    storage.delete(key)
    assert storage.get(key) is None
    storage.delete(key)  # already gone: not an error


def test_local_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "renditions")
    _roundtrip(storage)
    storage.put("NBCU/SH1/1/1x1.jpg", b"x", "image/jpeg")
    assert (tmp_path / "renditions" / "NBCU" / "SH1" / "1" / "1x1.jpg").read_bytes()
    assert not list((tmp_path / "renditions").rglob(".part-*"))
    with pytest.raises(StorageError):
        storage.put("../escape.png", b"x", "image/png")


def test_s3_storage_round_trip_on_a_real_s3_server(
    s3_server: str, s3_bucket: tuple[Any, str], settings_for, monkeypatch
) -> None:
    client, bucket = s3_bucket
    settings = settings_for(
        "",
        smartcrop_service={"storage": {"backend": "s3", "endpoint_url": s3_server}},
        aws_config={
            "service_accounts": [{"uat": {"smartcrop_bucket": bucket}}],
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        },
    )
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage) and storage.bucket == bucket
    _roundtrip(storage)
    storage.put("NBCU/SH1/2/4x3.jpg", b"jpeg", "image/jpeg")
    head = client.head_object(Bucket=bucket, Key="NBCU/SH1/2/4x3.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_s3_storage_failure_is_a_storage_error(s3_server: str, settings_for) -> None:
    settings = settings_for(
        "",
        smartcrop_service={"storage": {"backend": "s3", "endpoint_url": s3_server}},
        aws_config={
            "service_accounts": [{"uat": {"smartcrop_bucket": "no-such-bucket-here"}}],
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        },
    )
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        storage_from_settings(settings).put("k.png", b"x", "image/png")


def test_public_url_and_cdn_rewrite(settings_for) -> None:
    settings = settings_for(
        "",
        smartcrop_service={
            "storage": {"public_base_url": "https://origin.example.com/renditions/"},
            "cdn": {
                "origin_base_url": "https://origin.example.com",
                "rewrite_base_url": "https://cdn.example.com",
            },
        },
    )
    url = public_url(settings, "NBCU/SH 1/17/16x9.png")
    assert url == "https://origin.example.com/renditions/NBCU/SH%201/17/16x9.png"
    assert (
        cdn_url(url, settings)
        == "https://cdn.example.com/renditions/NBCU/SH%201/17/16x9.png"
    )


@pytest.mark.parametrize(
    ("origin", "rewrite", "url", "expected"),
    [
        (
            "https://o.example",
            "https://cdn.example",
            "https://o.example/a.png",
            "https://cdn.example/a.png",
        ),
        (
            "https://o.example/",
            "https://cdn.example",
            "https://o.example/a.png",
            "https://cdn.example/a.png",
        ),
        (
            "https://o.example",
            "https://cdn.example/",
            "https://o.example/a.png",
            "https://cdn.example/a.png",
        ),
        (
            "https://o.example/img",
            "https://cdn.example/i",
            "https://o.example/img/a",
            "https://cdn.example/i/a",
        ),
        # not at a path boundary, or elsewhere in the URL: untouched
        (
            "https://o.example",
            "https://cdn.example",
            "https://o.example.evil.net/a",
            "https://o.example.evil.net/a",
        ),
        (
            "https://o.example",
            "https://cdn.example",
            "https://x.example/?u=https://o.example/a",
            "https://x.example/?u=https://o.example/a",
        ),
        ("", "https://cdn.example", "https://o.example/a", "https://o.example/a"),
    ],
)
def test_rewrite_url(origin: str, rewrite: str, url: str, expected: str) -> None:
    cdn = CdnConfig(origin_base_url=origin, rewrite_base_url=rewrite)
    assert rewrite_url(url, cdn) == expected
    assert rewrite_url(None, cdn) is None
