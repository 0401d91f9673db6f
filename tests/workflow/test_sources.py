"""Reading source-image sizes over real HTTP on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from smartcrop.errors import InvalidInput
from smartcrop.workflow.claims import claim_operator_programme
from smartcrop.workflow.sources import SourceImageError, read_image_size
from tests.support.image_server import png, policy_allowing, serve
from tests.support.work_items import add_item, add_user, sessions, states


def test_the_size_is_read_from_the_header() -> None:
    big = png(1600, 900)
    with serve({"/a.png": big, "/junk": b"not an image"}) as (base, _):
        # The loopback server is allowed (tests/security/test_ssrf_policy.py checks
        # that it is refused by default).
        policy = policy_allowing(base)
        assert read_image_size(f"{base}/a.png", policy=policy) == (1600, 900)
        # Only the header is needed: a cap far below the file's size still works.
        assert read_image_size(f"{base}/a.png", max_bytes=1024, policy=policy) == (
            1600,
            900,
        )
        with pytest.raises(SourceImageError, match="HTTP 404"):
            read_image_size(f"{base}/missing.png", policy=policy)
        with pytest.raises(SourceImageError, match="not a readable image"):
            read_image_size(f"{base}/junk", policy=policy)
    with pytest.raises(SourceImageError, match="not http"):
        read_image_size("file:///etc/passwd")
    with pytest.raises(SourceImageError, match="could not be fetched"):
        read_image_size(base + "/a.png", policy=policy)  # the server is gone


def test_a_claim_reads_missing_sizes_once(engine: Engine) -> None:
    user = add_user(engine)
    with serve({"/p.png": png(640, 360)}) as (base, requested):
        image = add_item(engine, "SH1", url=f"{base}/p.png", width=None, height=None)
        known = add_item(engine, "SH1", url=f"{base}/known.png", width=10, height=20)
        for _ in range(2):
            with sessions(engine)() as session:
                claimed = claim_operator_programme(
                    session,
                    "NBCU",
                    user,
                    actor_id=user,
                    lock_timeout_minutes=30,
                    fetch_policy=policy_allowing(base),
                )
        assert requested == ["/p.png"]
    assert claimed.image_ids == [image, known]
    from sqlalchemy import text

    with engine.connect() as conn:
        sizes = conn.execute(
            text("SELECT width, height FROM smartcrop_programimage ORDER BY id")
        ).all()
    assert [tuple(s) for s in sizes] == [(640, 360), (10, 20)]


def test_an_unreadable_source_is_a_400_naming_the_image_and_the_claim_stands(
    engine: Engine,
) -> None:
    user = add_user(engine)
    with serve({"/ok.png": png(300, 200)}) as (base, _):
        good = add_item(engine, "SH1", url=f"{base}/ok.png", width=None, height=None)
        bad = add_item(engine, "SH1", url=f"{base}/gone.png", width=None, height=None)
        with sessions(engine)() as session, pytest.raises(InvalidInput) as refused:
            claim_operator_programme(
                session,
                "NBCU",
                user,
                actor_id=user,
                lock_timeout_minutes=30,
                fetch_policy=policy_allowing(base),
            )
    message = refused.value.message
    assert f"image {bad} of programme SH1" in message and "HTTP 404" in message
    assert f"image {good} " not in message
    assert states(engine, good, bad) == [(1, 1, user), (1, 1, user)]
