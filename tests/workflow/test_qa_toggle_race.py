"""QA cannot be switched off while a QA claim is landing (the 409 rule holds)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from smartcrop import identity
from smartcrop.errors import Conflict
from smartcrop.workflow.claims import claim_for_qa
from tests.support.work_items import add_item, add_user, sessions, states


def test_disabling_qa_waits_for_a_claim_in_flight_and_is_then_refused(
    engine: Engine,
) -> None:
    reviewer = add_user(engine, "qa")
    admin = add_user(engine, "admin")
    image = add_item(engine, "SH1", status=2)
    make = sessions(engine)
    claiming = make()
    claimed = claim_for_qa(claiming, None, reviewer, lock_timeout_minutes=30)
    assert claimed is not None  # the claim holds its locks, not yet committed

    outcome: dict[str, object] = {}

    def disable() -> None:
        with make() as session:
            try:
                identity.set_qc_disabled(session, True, admin)
                session.commit()
                outcome["result"] = "disabled"
            except Conflict as exc:
                session.rollback()
                outcome["result"] = exc

    toggler = threading.Thread(target=disable)
    toggler.start()
    toggler.join(timeout=1.0)
    assert toggler.is_alive(), "the toggle must wait for the claim in flight"
    claiming.commit()
    claiming.close()
    toggler.join(timeout=10)
    assert isinstance(outcome["result"], Conflict)
    assert states(engine, image) == [(2, 1, reviewer)]
    with make() as session:
        assert identity.qc_disabled(session) is False


def test_without_a_claim_in_flight_qa_can_be_disabled(engine: Engine) -> None:
    admin = add_user(engine, "admin")
    add_item(engine, "SH1", status=2)
    with sessions(engine)() as session:
        assert identity.set_qc_disabled(session, True, admin) is True
        session.commit()
    with sessions(engine)() as session:
        assert identity.qc_disabled(session) is True
