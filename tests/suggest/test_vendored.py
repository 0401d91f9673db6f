"""Vendored files stay byte-identical to the upstream releases their READMEs name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[2]
VENDORED = {
    # smartcrop 0.5.0, smartcrop/library.py
    REPO / "smartcrop/suggest/_vendor/smartcrop_js.py": (
        "80ec358ddc1c15cbdeb4c22a2738798a311340f4ffe4538f3f2a0947ac440cdc"
    ),
    # cropperjs 1.6.3, dist/
    REPO / "api/static/ui/vendor/cropper.min.js": (
        "1f384d770828965ff203ae39a6169c8099458768238eaa6b6b707643f31ed083"
    ),
    REPO / "api/static/ui/vendor/cropper.min.css": (
        "5a5c41554670bb793abdb3408fe20718cda6df9b45c90fea3ff10718ecf0c8b4"
    ),
}


def test_vendored_files_are_unchanged() -> None:
    for path, digest in VENDORED.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path
        assert (path.parent / "README.md").read_text().count(path.name) >= 1


def test_opencv_ships_the_cascades_the_engine_uses() -> None:
    from smartcrop.suggest.faces import CASCADES, cascade_dir

    assert cv2.__version__.startswith("4.")
    for name in CASCADES:
        assert (cascade_dir() / name).is_file(), name
