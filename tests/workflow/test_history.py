"""A programme's History at domain level: who may read it, and what it lists."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from smartcrop.errors import NotFound, PermissionDenied
from smartcrop.workflow.claims import claim_for_operator
from smartcrop.workflow.history import programme_history
from tests.support.work_items import add_item, add_user, sessions


def read(engine: Engine, program_id: str, viewer: int, role: str):
    with sessions(engine)() as session:
        return programme_history(
            session, program_id, viewer_id=viewer, viewer_role=role
        )


def test_an_operator_an_admin_acted_for_has_touched_the_programme(
    engine: Engine,
) -> None:
    olga, bob = add_user(engine), add_user(engine)
    admin = add_user(engine, "admin", name="Ada Admin")
    image = add_item(engine, "SH1")
    with sessions(engine).begin() as session:
        claim_for_operator(
            session, "NBCU", olga, actor_id=admin, lock_timeout_minutes=30
        )
    [entry] = read(engine, "SH1", olga, "operator")["Entries"]
    assert (entry["ImageId"], entry["Action"], entry["UserId"]) == (
        image,
        "claim",
        admin,
    )
    assert (entry["UserName"], entry["ForUserId"]) == ("Ada Admin", olga)
    with pytest.raises(PermissionDenied):
        read(engine, "SH1", bob, "operator")
    assert read(engine, "SH1", bob, "qa")["Entries"] == [entry]


def test_a_programme_without_work_items_is_not_found_and_reading_moves_nothing(
    engine: Engine,
) -> None:
    quinn = add_user(engine, "qa")
    add_item(engine, "SH1")
    with pytest.raises(NotFound):
        read(engine, "SH2", quinn, "qa")
    assert read(engine, "SH1", quinn, "qa") == {"ProgramId": "SH1", "Entries": []}
