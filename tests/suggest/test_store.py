"""Storing outcomes: suggestions replaced whole, failures keep the last good ones,
sizes filled only where the work item had none."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcrop.suggest.boxes import Box
from smartcrop.suggest.store import (
    Outcome,
    StoredSuggestion,
    fetch_status,
    save_outcome,
    source_item,
    suggestions_by_image,
)
from tests.support.work_items import add_item, engine_for


def test_outcomes_replace_suggestions_and_fill_sizes(db_url: str) -> None:
    with engine_for(db_url) as engine:
        sized = add_item(engine, "SH000000000201", width=2000, height=3000)
        unsized = add_item(engine, "SH000000000201", width=None, height=None)
        five = [
            StoredSuggestion(ratio, Box(0, 0, 90, 90), 0.5, "saliency")
            for ratio in range(1, 6)
        ]
        with Session(engine) as session, session.begin():
            item = source_item(session, unsized)
            assert item is not None and item.declared_size is None
            save_outcome(
                session, Outcome(item, "ok", image_size=(640, 480), suggestions=five)
            )
            other = source_item(session, sized)
            assert other is not None and other.declared_size == (2000, 3000)
            save_outcome(session, Outcome(other, "ok", image_size=(10, 10)))
        with Session(engine) as session:
            found = suggestions_by_image(session, [sized, unsized])
            assert sized not in found and len(found[unsized]) == 5
            refreshed = source_item(session, unsized)
            assert refreshed is not None
            assert (refreshed.width, refreshed.height) == (640, 480)
            kept = source_item(session, sized)
            assert kept is not None and (kept.width, kept.height) == (2000, 3000)

        with Session(engine) as session, session.begin():
            # A failed refresh keeps the suggestions it could not replace.
            save_outcome(session, Outcome(refreshed, "failed", reason="HTTP 503"))
        with Session(engine) as session:
            assert len(suggestions_by_image(session, [unsized])[unsized]) == 5
            status = fetch_status(session, unsized)
            assert status is not None
            assert (status["Status"], status["Reason"], status["Attempts"]) == (
                "failed",
                "HTTP 503",
                2,
            )
            assert (status["ImageWidth"], status["ImageHeight"]) == (640, 480)

        with Session(engine) as session, session.begin():
            # A smaller image now: only the ratio it holds stays.
            save_outcome(
                session,
                Outcome(refreshed, "ok", image_size=(1, 1), suggestions=five[4:]),
            )
        with Session(engine) as session:
            rows = suggestions_by_image(session, [unsized])[unsized]
            assert [r["AspectRatioId"] for r in rows] == [5]
            assert rows[0]["AspectRatio"] == "1x1" and rows[0]["Method"] == "saliency"
            assert suggestions_by_image(session, []) == {}
