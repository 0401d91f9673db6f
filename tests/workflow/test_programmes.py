"""The Programme answer, read in one statement: the same images, renditions and
suggestions as reading each on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from smartcrop.suggest.store import suggestions_by_image
from smartcrop.workflow.programmes import build_programme
from tests.support.work_items import add_item, add_user, sessions

# Scores whose decimal forms are awkward: they must come back as the very floats.
SCORES = (0.1 + 0.2, 1 / 3, 0.0, 1.0, 0.987654321012345)


@pytest.fixture
def settings(settings_for, tmp_path: Path):
    return settings_for("")


def test_one_statement_answers_images_renditions_and_suggestions(
    engine: Engine, settings
) -> None:
    user = add_user(engine)
    a = add_item(engine, "SH1", status=1, state=1, locked_by=user)
    b = add_item(engine, "SH1", image_type_id=None, language_id=None)
    with engine.begin() as conn:
        for ratio, score in zip((1, 2, 3, 4, 5), SCORES, strict=True):
            conn.execute(
                text(
                    "INSERT INTO smartcrop_cropsuggestion (programimageid,"
                    " aspectratioid, x, y, width, height, score, method)"
                    " VALUES (:id, :ratio, 1, 2, 160, 90, :score, 'face')"
                ),
                {"id": a, "ratio": 6 - ratio, "score": score},
            )
        for ratio in (5, 1):
            conn.execute(
                text(
                    "INSERT INTO smartcrop_aspectratioimages (programimageid,"
                    " link_object_id, aspectratioid, cropx, cropy, cropwidth,"
                    " cropheight, storagekey, imageurl, filesize, createdby)"
                    " VALUES (:id, 'SH1', :ratio, 3, 4, 100, 100, :key, :url, 9,"
                    " :user)"
                ),
                {
                    "id": a,
                    "ratio": ratio,
                    "key": f"NBCU/SH1/{a}/{ratio}.png",
                    "url": f"http://cdn.example/NBCU/SH1/{a}/{ratio}.png",
                    "user": user,
                },
            )
    sent: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:
        sent.append(statement)

    with sessions(engine)() as session:
        event.listen(engine, "before_cursor_execute", record)
        try:
            programme = build_programme(session, [b, a], settings)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        expected_suggestions = suggestions_by_image(session, [a, b])
    assert len(sent) == 1
    assert programme is not None
    assert (programme["ProgramId"], programme["ProviderName"]) == ("SH1", "NBCU")
    first, second = programme["Images"]
    assert (first["ImageId"], second["ImageId"]) == (a, b)
    assert (first["ImageType"], first["Language"]) == ("Poster", "English")
    assert (second["ImageType"], second["Language"]) == (None, None)
    assert (first["LockedBy"], first["Notes"]) == (user, "")
    assert first["Suggestions"] == expected_suggestions[a]
    assert [s["Score"] for s in first["Suggestions"]] == list(reversed(SCORES))
    assert all(type(s["Score"]) is float for s in first["Suggestions"])
    assert second["Suggestions"] == [] and second["Renditions"] == []
    assert [r["AspectRatioId"] for r in first["Renditions"]] == [1, 5]
    assert first["Renditions"][0] == {
        "AspectRatioId": 1,
        "AspectRatio": "16x9",
        "X": 3,
        "Y": 4,
        "Width": 100,
        "Height": 100,
        "Url": f"http://cdn.example/NBCU/SH1/{a}/1.png",
        "ImageBase64": None,
    }


def test_no_images_is_no_programme(engine: Engine, settings) -> None:
    with sessions(engine)() as session:
        assert build_programme(session, [12345], settings) is None
