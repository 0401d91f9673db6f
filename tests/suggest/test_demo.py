"""The offline demo `make up` ingests: its manifest lands whole, every URL names an
image the API serves, and each image gets the suggestions it was made for."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from smartcrop.suggest import engine
from tests.support.manifest_samples import query, upload_rows

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo"
EXPECTED_METHODS = {
    "astronaut.jpg": {"face"},
    "presenter_right.jpg": {"face"},
    "two_presenters.jpg": {"face"},
    "poster_portrait.jpg": {"face"},
    "balloon_field.jpg": {"saliency"},
    "plain_backdrop.jpg": {"centre"},
}


def test_the_demo_manifest_lands_whole_and_names_served_images(pipeline) -> None:
    staged = Path(shutil.copy2(DEMO / "PARAMOUNT_DEMO.xlsx", pipeline.staging))
    past = time.time() - 10
    os.utime(staged, (past, past))
    runs = pipeline.run(pipeline.tick("local_staging_sensor"))
    assert runs and all(run.success for run in runs)
    status, provider, items, rejected, duplicates, _ = upload_rows(pipeline.db_url)[
        "PARAMOUNT_DEMO.xlsx"
    ]
    assert (status, provider, items, rejected, duplicates) == (
        "ingested",
        "PARAMOUNT",
        10,
        0,
        0,
    )
    for url, width, height in query(
        pipeline.db_url, "SELECT imageurl, width, height FROM smartcrop_programimage"
    ):
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000")
        assert parts.path.startswith("/demo-images/")
        with Image.open(
            DEMO / "images" / parts.path.removeprefix("/demo-images/")
        ) as im:
            assert im.size == (width, height)


def test_each_demo_image_gets_the_suggestions_it_was_made_for() -> None:
    for name, methods in EXPECTED_METHODS.items():
        data = (DEMO / "images" / name).read_bytes()
        size, suggestions = engine.suggest_from_bytes(data)
        assert len(suggestions) == 5, name
        assert {s.method for s in suggestions} == methods, name
        for suggestion in suggestions:
            assert suggestion.box.inside(*size)
