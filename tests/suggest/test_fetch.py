"""Fetching source images from a real HTTP server on loopback, good and bad."""

from __future__ import annotations

import socket

from samples.demo import scenes
from smartcrop.suggest.fetch import FetchLimits, fetch_image
from tests.support.image_server import Route, encode, policy_allowing, serve

FAST = FetchLimits(connect_timeout=2, read_timeout=1, deadline=5, max_bytes=2_000_000)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_each_outcome_has_its_reason() -> None:
    jpeg = encode(scenes.flat_scene(64, 48).image)
    routes = {
        "/good.jpg": Route(jpeg),
        "/generic.jpg": Route(jpeg, "application/octet-stream"),
        "/generic.bin": Route(b"PK\x03\x04 a zip file", "application/octet-stream"),
        "/page.html": Route(b"<html>moved</html>", "text/html; charset=utf-8"),
        "/gone.jpg": Route(b"gone", "text/plain", status=410),
        "/slow.jpg": Route(jpeg, delay=3),
        "/huge.jpg": Route(b"\xff\xd8\xff" + b"\0" * 2_100_000),
        "/empty.jpg": Route(b""),
    }
    with serve(routes) as (base, _):
        # The loopback server is allowed by the fetch policy (tests/security/
        # test_ssrf.py checks that it is refused by default).
        policy = policy_allowing(base)
        good = fetch_image(f"{base}/good.jpg", limits=FAST, policy=policy)
        assert good.ok and good.data == jpeg and good.http_status == 200
        assert fetch_image(f"{base}/generic.jpg", limits=FAST, policy=policy).ok
        reasons = {
            path: fetch_image(f"{base}{path}", limits=FAST, policy=policy).reason
            for path in [*routes, "/missing.jpg"]
            if path not in ("/good.jpg", "/generic.jpg")
        }
    assert "not an image" in reasons["/generic.bin"]
    assert reasons["/page.html"] == "it is not an image (the server sent text/html)"
    assert reasons["/gone.jpg"] == "the server answered HTTP 410"
    assert reasons["/missing.jpg"] == "the server answered HTTP 404"
    assert "did not answer in time" in reasons["/slow.jpg"]
    assert "more than the 2 MB limit" in reasons["/huge.jpg"]
    assert reasons["/empty.jpg"] == "the server sent an empty body"


def test_unreachable_and_unsupported_urls() -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    refused = fetch_image(
        f"{closed}/x.jpg", limits=FAST, policy=policy_allowing(closed)
    )
    assert not refused.ok and "could not be fetched (ConnectError" in refused.reason
    assert fetch_image("ftp://example.com/x.jpg").reason == "its URL is not http(s)"
    assert fetch_image("file:///etc/passwd").reason == "its URL is not http(s)"


def test_an_analysis_crash_is_an_outcome_not_an_error(monkeypatch) -> None:
    from smartcrop.suggest import engine, service
    from smartcrop.suggest.store import SourceItem

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    # Stand-in: no real image makes OpenCV or the saliency code crash on demand, and a
    # crash in analysis must still be recorded as an outcome, not fail the run.
    monkeypatch.setattr(engine, "suggest_crops", crash)
    jpeg = encode(scenes.flat_scene(64, 48).image)
    with serve({"/x.jpg": Route(jpeg)}) as (base, _):
        item = SourceItem(1, "SH1", f"{base}/x.jpg", None, None)
        policy = policy_allowing(base)
        outcome = service.analyse_item(item, limits=FAST, policy=policy)
        outcomes = list(service.analyse_items([item, item], limits=FAST, policy=policy))
    assert (outcome.status, outcome.reason) == (
        "failed",
        "the analysis failed (RuntimeError)",
    )
    assert outcome.size_bytes == len(jpeg) and outcome.http_status == 200
    assert [o.status for o in outcomes] == ["failed", "failed"]
