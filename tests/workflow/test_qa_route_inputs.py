"""A save routes finished work with the QA toggle and rules read in one statement,
exactly as smartcrop.workflow.qa_routing.qa_route decides
(tests/workflow/test_qa_routing.py)."""

from __future__ import annotations

from sqlalchemy import Engine, event, text

from smartcrop import identity
from smartcrop.workflow.qa_routing import qa_route
from smartcrop.workflow.save import default_qa_route
from tests.support.work_items import sessions

PROGRAMMES = [f"SH{n:04d}" for n in range(200)]


def test_the_save_routes_as_qa_route_does_in_every_setting(engine: Engine) -> None:
    sent: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:
        sent.append(statement)

    with sessions(engine)() as session:

        def same() -> list[int]:
            sent.clear()
            event.listen(engine, "before_cursor_execute", record)
            try:
                ours = [default_qa_route(session, pid) for pid in PROGRAMMES]
            finally:
                event.remove(engine, "before_cursor_execute", record)
            assert len(sent) == len(PROGRAMMES)  # one statement per routing
            assert ours == [qa_route(session, pid) for pid in PROGRAMMES]
            return ours

        assert set(same()) == {2}  # no rule: everything to QA
        identity.create_rule(session, status=2, percentage=30, actor_id=None)
        assert set(same()) == {2, 3}
        identity.create_rule(session, status=3, percentage=100, actor_id=None)
        newest = identity.create_rule(session, status=2, percentage=0, actor_id=None)
        assert set(same()) == {3}  # the newest active Status 2 rule wins
        identity.update_rule(session, rule_id=newest["Id"], is_active=False)
        assert set(same()) == {2, 3}
        session.execute(text("UPDATE smartcrop_settings SET qcdisabled = true"))
        assert set(same()) == {3}  # QA disabled: always completed
        session.execute(text("DELETE FROM smartcrop_settings"))
        assert set(same()) == {2, 3}  # no settings row: QA counts as enabled
