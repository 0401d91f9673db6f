"""Static parts the API serves: the crop page (``/ui/``) and the demo's images.

The crop page is plain files (``api/static/ui``, no build step) that talk to the
public API with a bearer token, like any other client. The demo images
(``samples/demo/images``) are served at ``/demo-images/`` so that ``make up``'s demo
manifest works without any network; they are mounted only when the folder exists (a
checkout, not an installed wheel).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

UI_DIR = Path(__file__).resolve().parent / "static" / "ui"
DEMO_IMAGES_DIR = Path(__file__).resolve().parent.parent / "samples" / "demo" / "images"


def install_ui(app: FastAPI) -> None:
    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

        @app.get("/ui", include_in_schema=False)
        def _ui_root() -> RedirectResponse:
            return RedirectResponse("/ui/", status_code=307)

    if DEMO_IMAGES_DIR.is_dir():
        app.mount(
            "/demo-images",
            StaticFiles(directory=DEMO_IMAGES_DIR),
            name="demo-images",
        )
