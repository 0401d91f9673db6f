"""UpdateStatus at domain level: every held row moves, or none."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.workflow.status_updates import update_status
from tests.support.work_items import (
    add_item,
    add_rendition,
    add_user,
    sessions,
    snapshot,
    states,
)


def test_update_status_moves_every_held_row_or_none(engine: Engine, settings) -> None:
    op, other = add_user(engine), add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    b = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    c = add_item(engine, "SH1", status=1, state=1, locked_by=other)
    for image in (a, b):
        add_rendition(engine, image)  # finishing needs one

    def call(status: int, state: int, reason: int | None = None, owner: int = op):
        with sessions(engine).begin() as session:
            return update_status(
                session,
                "SH1",
                status,
                state,
                owner_id=owner,
                actor_id=owner,
                stage_statuses=(1,),
                lock_timeout_minutes=30,
                reject_reason_id=reason,
                route=lambda s, p: 3,
            )

    before = snapshot(engine)
    for status, state, reason, error in [
        (3, 1, None, Conflict),
        (1, 1, None, Conflict),
        (4, 0, 99, InvalidInput),
        (9, 0, None, InvalidInput),
        (2, 1, None, Conflict),
    ]:
        with pytest.raises(error):
            call(status, state, reason)
    assert snapshot(engine) == before
    assert call(2, 0) == [a, b]  # "finished": routing says completed
    assert states(engine, a, b, c) == [(3, 0, None), (3, 0, None), (1, 1, other)]
    with pytest.raises(Conflict, match="hold no lock"):
        call(2, 0)
