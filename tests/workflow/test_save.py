"""Saving crops and moving images by their Status, at domain level."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.renditions.storage import LocalStorage
from smartcrop.workflow.save import (
    ImageInput,
    RenditionInput,
    SaveRequest,
)
from smartcrop.workflow.status_updates import update_status
from tests.support.work_items import (
    add_item,
    add_rendition,
    add_user,
    age_locks,
    audit_rows,
    image_b64,
    sessions,
    snapshot,
    states,
)
from tests.workflow.saving import crop, renditions, save


def test_an_operator_save_stores_upserts_routes_and_releases(
    engine: Engine, settings, storage: LocalStorage
) -> None:
    op = add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    b = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    request = SaveRequest(
        "SH1",
        (
            ImageInput(a, 2, None, (crop(1), crop(5, 100, 100, "JPEG"))),
            ImageInput(b, 4, 6, ()),
        ),
    )
    routed: list[str] = []
    save(
        engine, settings, storage, request, op, route=lambda s, p: routed.append(p) or 3
    )
    assert routed == ["SH1"]
    assert states(engine, a, b) == [(3, 0, None), (4, 0, None)]
    base = "http://127.0.0.1:8000/renditions"
    assert renditions(engine) == [
        (
            a,
            1,
            160,
            90,
            f"NBCU/SH1/{a}/16x9.png",
            f"{base}/NBCU/SH1/{a}/16x9.png",
            op,
            op,
        ),
        (
            a,
            5,
            100,
            100,
            f"NBCU/SH1/{a}/1x1.jpg",
            f"{base}/NBCU/SH1/{a}/1x1.jpg",
            op,
            op,
        ),
    ]
    assert storage.get(f"NBCU/SH1/{a}/16x9.png").startswith(b"\x89PNG")
    actions = {r["programimageid"]: r for r in audit_rows(engine)}
    assert (actions[a]["action"], actions[a]["tostatus"]) == ("finish", 3)
    assert (actions[b]["action"], actions[b]["rejectreasonid"]) == ("reject", 6)


def test_saving_again_replaces_the_rendition_and_a_new_format_drops_the_old_file(
    engine: Engine, settings, storage: LocalStorage
) -> None:
    op = add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    save(
        engine,
        settings,
        storage,
        SaveRequest("SH1", (ImageInput(a, 1, None, (crop(1),)),)),
        op,
    )
    assert states(engine, a) == [(1, 0, None)]  # Status 1: saved, lock released
    with engine.begin() as conn:  # claim it again by hand
        conn.execute(
            text(
                "UPDATE smartcrop_programimage SET currentstate = 1, lockedby = :u,"
                " lockedat = now() WHERE id = :id"
            ),
            {"u": op, "id": a},
        )
    request = SaveRequest(
        "SH1", (ImageInput(a, 2, None, (crop(1, 320, 180, "JPEG"),)),)
    )
    save(engine, settings, storage, request, op)
    [row] = renditions(engine)
    assert row[2:5] == (320, 180, f"NBCU/SH1/{a}/16x9.jpg")
    assert storage.get(f"NBCU/SH1/{a}/16x9.png") is None
    assert storage.get(f"NBCU/SH1/{a}/16x9.jpg") is not None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (RenditionInput(1, 0, 0, 160, 90, "%%%"), "not valid base64"),
        (RenditionInput(1, 0, 0, 160, 90, image_b64(160, 90, "GIF")), "not a PNG"),
        (RenditionInput(1, 0, 0, 160, 90, image_b64(150, 90)), "not the 160x90"),
        (RenditionInput(1, 1900, 0, 160, 90, image_b64(160, 90)), "leaves the"),
        (RenditionInput(1, 0, 0, 160, 100, image_b64(160, 100)), "is not 16x9"),
        (RenditionInput(9, 0, 0, 160, 90, image_b64(160, 90)), "not an aspect ratio"),
        (RenditionInput(2, 0, 0, 400, 300, None), "ImageBase64 is required"),
    ],
)
def test_one_bad_rendition_stores_nothing(
    engine: Engine, settings, storage: LocalStorage, bad: RenditionInput, message: str
) -> None:
    op = add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    b = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    before = snapshot(engine)
    request = SaveRequest(
        "SH1",
        (
            ImageInput(a, 2, None, (crop(1), crop(5, 90, 90))),
            ImageInput(b, 2, None, (bad,)),
        ),
    )
    with pytest.raises(InvalidInput, match=message):
        save(engine, settings, storage, request, op)
    assert snapshot(engine) == before
    assert not [p for p in Path(storage.root).rglob("*") if p.is_file()]


def test_refusals_of_images_the_caller_may_not_write(
    engine: Engine, settings, storage: LocalStorage
) -> None:
    op, other = add_user(engine), add_user(engine)
    mine = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    theirs = add_item(engine, "SH1", status=1, state=1, locked_by=other)
    free = add_item(engine, "SH1", status=1, state=0)
    elsewhere = add_item(engine, "SH2", status=1, state=1, locked_by=op)
    stale = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    age_locks(engine, 31, stale)
    before = snapshot(engine)
    cases = [
        (theirs, Conflict, "locked by another user"),
        (free, Conflict, "claim it first"),
        (elsewhere, NotFound, "has no image"),
        (stale, Conflict, "expired"),
        (10**9, NotFound, "has no image"),
    ]
    for image, error, message in cases:
        request = SaveRequest("SH1", (ImageInput(mine, 2), ImageInput(image, 2)))
        with pytest.raises(error, match=message):
            save(engine, settings, storage, request, op)
    for status, reason, message in [
        (4, None, "RejectReasonId"),
        (4, 99, "not a reject"),
        (7, None, "not a work-item state"),
    ]:
        request = SaveRequest("SH1", (ImageInput(mine, status, reason),))
        with pytest.raises(InvalidInput, match=message):
            save(engine, settings, storage, request, op)
    with pytest.raises(Conflict, match="not in the QA stage"):
        save(
            engine,
            settings,
            storage,
            SaveRequest("SH1", (ImageInput(mine, 3),)),
            op,
            stage=2,
        )
    twice = SaveRequest("SH1", (ImageInput(mine, 2, None, (crop(1), crop(1))),))
    with pytest.raises(InvalidInput, match="given twice"):
        save(engine, settings, storage, twice, op)
    with pytest.raises(InvalidInput, match="more than once"):
        save(
            engine,
            settings,
            storage,
            SaveRequest("SH1", (ImageInput(mine, 2),) * 2),
            op,
        )
    assert snapshot(engine) == before


def test_qa_save_moves(engine: Engine, settings, storage: LocalStorage) -> None:
    qa = add_user(engine, "qa")
    ids = [add_item(engine, "SH1", status=2, state=1, locked_by=qa) for _ in range(4)]
    add_rendition(engine, ids[0])  # approving needs one
    request = SaveRequest(
        "SH1",
        (
            ImageInput(ids[0], 3),
            ImageInput(ids[1], 1, 2),
            ImageInput(ids[2], 4, 4),
            ImageInput(ids[3], 2),
        ),
    )
    save(engine, settings, storage, request, qa, stage=2)
    assert states(engine, *ids) == [
        (3, 0, None),
        (1, 0, None),
        (4, 0, None),
        (2, 0, None),
    ]
    assert [audit_rows(engine, i)[0]["action"] for i in ids] == [
        "approve",
        "send_back",
        "qa_reject",
        "release",
    ]
    with engine.connect() as conn:
        sent_back = conn.execute(
            text(
                "SELECT rejectreasonid, reviewedby FROM smartcrop_programimage"
                " WHERE id = :i"
            ),
            {"i": ids[1]},
        ).one()
    assert tuple(sent_back) == (2, qa)


def test_finishing_needs_a_rendition_and_every_required_aspect_ratio(
    engine: Engine, settings_for, storage: LocalStorage
) -> None:
    """An image completed without renditions gives the nightly manifest no row: it
    would never be exported. Rejecting needs none."""
    op = add_user(engine)
    a, b, c = (add_item(engine, "SH1", status=1, state=1, locked_by=op) for _ in "abc")
    plain = settings_for("")
    before = snapshot(engine)
    finish_bare = SaveRequest("SH1", (ImageInput(a, 2), ImageInput(b, 4, 1)))
    with pytest.raises(InvalidInput, match=f"image {a} has no rendition$"):
        save(engine, plain, storage, finish_bare, op)
    required = ["16x9", "1x1"]
    strict = settings_for("", smartcrop_service={"required_aspect_ratios": required})
    with pytest.raises(
        InvalidInput, match=f"image {a} has no rendition \\(needed: 16x9, 1x1\\)"
    ):
        save(engine, strict, storage, finish_bare, op)
    only_16x9 = SaveRequest("SH1", (ImageInput(a, 2, None, (crop(1),)),))
    with pytest.raises(InvalidInput, match="required aspect ratios 1x1$"):
        save(engine, strict, storage, only_16x9, op)
    assert snapshot(engine) == before
    assert not [p for p in Path(storage.root).rglob("*") if p.is_file()]

    add_rendition(engine, a, 5)  # a stored 1x1 and a 16x9 in the request: enough
    save(
        engine,
        strict,
        storage,
        SaveRequest("SH1", (ImageInput(a, 2, None, (crop(1),)), ImageInput(b, 4, 1))),
        op,
    )
    assert states(engine, a, b) == [(2, 0, None), (4, 0, None)]

    def finish_by_status(required: list[str]) -> list[int]:
        with sessions(engine).begin() as session:
            return update_status(
                session,
                "SH1",
                2,
                0,
                owner_id=op,
                actor_id=op,
                stage_statuses=(1,),
                lock_timeout_minutes=30,
                required_aspect_ratios=required,
                route=lambda s, p: 2,
            )

    with pytest.raises(InvalidInput, match=f"image {c} has no rendition$"):
        finish_by_status([])
    add_rendition(engine, c, 1)
    with pytest.raises(InvalidInput, match=f"image {c} .* aspect ratios 1x1$"):
        finish_by_status(required)
    assert finish_by_status([]) == [c]
