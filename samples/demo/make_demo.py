"""Write the offline demo: its images and its manifest (run from the repository root).

    .venv/bin/python samples/demo/make_demo.py [--base-url http://127.0.0.1:8000]

- Photographs: five sample photographs of scikit-image's ``skimage/data`` (public
  domain or CC0, see ``images/LICENSES.md``), given as PNG files with ``--photos DIR``
  (the folder ``skimage/data`` of a scikit-image wheel; no scikit-image install is
  needed). Without ``--photos`` the JPEG copies already in ``images/`` are kept.
- Drawn scenes: made here with Pillow (``smartcrop.suggest.scenes``): faces off the
  centre, two presenters, a poster, an object on a plain field, a flat backdrop.
- ``PARAMOUNT_DEMO.xlsx``: a press-site manifest (contract section 5) whose image URLs
  point at the API's ``/demo-images/`` (``--base-url``, default the configured API
  host and port), so the demo needs no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openpyxl import Workbook
from PIL import Image

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
MANIFEST = HERE / "PARAMOUNT_DEMO.xlsx"

# (file in skimage/data, name here)
PHOTOS = (
    ("astronaut.png", "astronaut.jpg"),
    ("rocket.jpg", "rocket.jpg"),
    ("coffee.png", "coffee.jpg"),
    ("chelsea.png", "chelsea.jpg"),
    ("camera.png", "camera.jpg"),
)

# Programme id, title, image type, language, notes, image files.
PROGRAMMES = (
    (
        "SH900000010000",
        "Demo: Mission Control",
        "Cast",
        "en",
        "Sample photographs (public domain)",
        ("astronaut.jpg", "rocket.jpg", "camera.jpg"),
    ),
    (
        "SH900000020000",
        "Demo: Morning Coffee",
        "Episodic Still",
        "en",
        "Sample photographs (CC0)",
        ("coffee.jpg", "chelsea.jpg"),
    ),
    (
        "EP900000030001",
        "Demo: Studio Hour",
        "Backdrop",
        "English",
        "Drawn scenes: faces off the centre",
        ("presenter_right.jpg", "two_presenters.jpg", "poster_portrait.jpg"),
    ),
    (
        "MV900000040000",
        "Demo: The Red Balloon",
        "Poster",
        "xx",
        "Drawn scenes: no face; nothing at all",
        ("balloon_field.jpg", "plain_backdrop.jpg"),
    ),
)


def write_photos(source: Path) -> None:
    for name, target in PHOTOS:
        with Image.open(source / name) as image:
            image.convert("RGB").save(IMAGES / target, "JPEG", quality=90)


def write_scenes() -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from samples.demo import scenes  # noqa: PLC0415

    drawn = {
        "presenter_right.jpg": scenes.face_scene(
            1920, 1080, [(0.8, 0.34)], 230, seed=11
        ),
        "two_presenters.jpg": scenes.face_scene(
            2000, 1125, [(0.36, 0.36), (0.58, 0.4)], 200, seed=12
        ),
        "poster_portrait.jpg": scenes.face_scene(
            1000, 1500, [(0.68, 0.22)], 240, seed=13
        ),
        "balloon_field.jpg": scenes.object_scene(
            1920, 1080, (0.16, 0.3, 0.16), seed=14
        ),
        "plain_backdrop.jpg": scenes.flat_scene(1600, 900),
    }
    for name, scene in drawn.items():
        scene.image.save(IMAGES / name, "JPEG", quality=88, optimize=True)


def write_manifest(base_url: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Images"
    sheet.append(
        [
            "Program ID",
            "Program Title",
            "Image URL",
            "Image Type",
            "Language",
            "Width",
            "Height",
            "Notes",
        ]
    )
    for program_id, title, image_type, language, notes, files in PROGRAMMES:
        for name in files:
            with Image.open(IMAGES / name) as image:
                width, height = image.size
            sheet.append(
                [
                    program_id,
                    title,
                    f"{base_url.rstrip('/')}/demo-images/{name}",
                    image_type,
                    language,
                    width,
                    height,
                    notes,
                ]
            )
    workbook.save(MANIFEST)


def default_base_url() -> str:
    sys.path.insert(0, str(HERE.parent.parent))
    from smartcrop.settings import load_settings  # noqa: PLC0415

    service = load_settings().smartcrop_service
    return f"http://{service.api_host}:{service.api_port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--photos", type=Path, default=None)
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    if args.photos is not None:
        write_photos(args.photos)
    write_scenes()
    write_manifest(args.base_url or default_base_url())
    print(f"wrote {IMAGES} and {MANIFEST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
