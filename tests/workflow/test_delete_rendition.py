"""Deleting a rendition at domain level: its row and its stored file."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from smartcrop.errors import Conflict, NotFound
from smartcrop.renditions.storage import LocalStorage
from smartcrop.workflow.save import ImageInput, SaveRequest, delete_rendition
from tests.support.work_items import add_item, add_user, sessions
from tests.workflow.saving import crop, renditions, save


def test_delete_rendition(engine: Engine, settings, storage: LocalStorage) -> None:
    op, other = add_user(engine), add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    save(
        engine,
        settings,
        storage,
        SaveRequest("SH1", (ImageInput(a, 1, None, (crop(1),)),)),
        op,
    )

    def delete(owner: int, ratio: int = 1, program: str = "SH1") -> None:
        with sessions(engine).begin() as session:
            delete_rendition(
                session,
                program,
                a,
                ratio,
                owner_id=owner,
                stage_statuses=(1,),
                settings=settings,
                storage=storage,
            )

    with pytest.raises(Conflict):
        delete(op)  # the save released the lock
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_programimage SET currentstate = 1, lockedby = :u,"
                " lockedat = now() WHERE id = :id"
            ),
            {"u": op, "id": a},
        )
    with pytest.raises(Conflict):
        delete(other)
    with pytest.raises(NotFound):
        delete(op, ratio=2)
    with pytest.raises(NotFound):
        delete(op, program="SH2")
    delete(op)
    assert renditions(engine) == []
    assert storage.get(f"NBCU/SH1/{a}/16x9.png") is None
