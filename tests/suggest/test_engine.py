"""The suggestion engine on images made here and on a real photograph.

Every box is checked with the workflow's own validation (``check_crop_box``): inside
the image, within 1% of its ratio. Faces are checked against where they were drawn
(or, for the photograph, where a person sees the face).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from samples.demo import scenes
from smartcrop.lookups import ASPECT_RATIOS
from smartcrop.renditions.validation import AspectRatioSpec, CropBox, check_crop_box
from smartcrop.suggest import engine
from smartcrop.suggest.boxes import Box
from smartcrop.suggest.faces import detect_faces

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "samples" / "demo" / "images" / "astronaut.jpg"
# Eileen Collins's face in the 512x512 photograph, forehead to chin and ear to ear,
# as a person marks it; and her whole head, hair included.
ASTRONAUT_FACE = Box(176, 70, 96, 100)
ASTRONAUT_HEAD = Box(152, 16, 148, 166)


def assert_valid(suggestions: list[engine.Suggestion], grid: tuple[int, int]) -> None:
    assert [s.aspect_ratio_id for s in suggestions] == [r.id for r in ASPECT_RATIOS]
    for suggestion, ratio in zip(suggestions, ASPECT_RATIOS, strict=True):
        assert suggestion.aspect_ratio == ratio.title
        assert suggestion.method in engine.METHODS
        assert 0.0 <= suggestion.score <= 1.0
        box = suggestion.box
        assert all(isinstance(v, int) for v in (box.x, box.y, box.width, box.height))
        check_crop_box(
            CropBox(box.x, box.y, box.width, box.height),
            AspectRatioSpec(ratio.id, ratio.title, ratio.width, ratio.height),
            source_width=grid[0],
            source_height=grid[1],
            label=ratio.title,
        )
        # The largest box of the ratio: one side (nearly) fills the image.
        assert grid[0] - box.width < ratio.width or grid[1] - box.height < ratio.height


def _iou(a: Box, b: Box) -> float:
    shared = a.overlap(b)
    return shared / (a.area + b.area - shared)


FACE_SCENES = [
    # name, width, height, face centres (fractions), face width (px)
    ("landscape, face on the right", 1920, 1080, [(0.82, 0.35)], 220),
    ("landscape, face low left", 1920, 1080, [(0.12, 0.62)], 180),
    ("portrait, face top left", 1000, 1500, [(0.25, 0.2)], 240),
    ("portrait, face bottom right", 1000, 1500, [(0.78, 0.78)], 200),
    ("panorama, face at the left edge", 3000, 1000, [(0.07, 0.45)], 280),
    ("square, face in a corner", 1200, 1200, [(0.85, 0.15)], 200),
    ("two presenters", 2000, 1125, [(0.38, 0.38), (0.6, 0.42)], 200),
]


@pytest.mark.parametrize(
    ("name", "width", "height", "centres", "size"),
    FACE_SCENES,
    ids=[scene[0] for scene in FACE_SCENES],
)
def test_drawn_faces_are_kept_in_every_ratio(
    name: str, width: int, height: int, centres: list, size: int
) -> None:
    scene = scenes.face_scene(width, height, centres, size, seed=len(name))
    analysis = engine.analyse(scene.image)
    # The detector really finds each drawn face (and nothing else).
    assert len(analysis.faces) == len(scene.faces)
    for head in scene.faces:
        assert max(_iou(head, face.box) for face in analysis.faces) > 0.4
    suggestions = engine.suggest(analysis)
    assert_valid(suggestions, (width, height))
    for suggestion in suggestions:
        assert suggestion.method == "face"
        assert suggestion.score == 1.0
        for head in scene.faces:
            assert suggestion.box.contains(head), (suggestion, head)
        for face in analysis.faces:
            assert suggestion.box.contains(face.box)


def test_a_photograph_with_a_known_face() -> None:
    with Image.open(ASTRONAUT) as image:
        analysis = engine.analyse(image)
        suggestions = engine.suggest(analysis)
    assert len(analysis.faces) == 1
    assert _iou(analysis.faces[0].box, ASTRONAUT_FACE) > 0.6
    assert_valid(suggestions, (512, 512))
    for suggestion in suggestions:
        assert suggestion.method == "face"
        assert suggestion.box.contains(ASTRONAUT_FACE)
        assert suggestion.box.contains(ASTRONAUT_HEAD)


def test_an_off_centre_subject_without_a_face_is_kept() -> None:
    for centre in ((0.88, 0.72), (0.1, 0.2), (0.5, 0.9)):
        scene = scenes.object_scene(1920, 1080, (*centre, 0.14), seed=3)
        suggestions = engine.suggest_crops(scene.image)
        assert_valid(suggestions, (1920, 1080))
        assert scene.subject is not None
        for suggestion in suggestions:
            assert suggestion.method == "saliency"
            assert suggestion.box.contains(scene.subject), (centre, suggestion)


def test_nothing_found_falls_back_to_the_centre() -> None:
    scene = scenes.flat_scene(1600, 900)
    suggestions = engine.suggest_crops(scene.image)
    assert_valid(suggestions, (1600, 900))
    for suggestion in suggestions:
        assert suggestion.method == "centre"
        assert suggestion.score == 0.0
        box = suggestion.box
        assert abs((box.x + box.width / 2) - 800) <= 1
        assert abs((box.y + box.height / 2) - 450) <= 1


def test_a_large_image_is_analysed_small_and_boxed_at_full_size() -> None:
    scene = scenes.face_scene(6000, 4000, [(0.9, 0.2)], 600, seed=9)
    data = io.BytesIO()
    scene.image.save(data, "JPEG", quality=85)
    size, suggestions = engine.suggest_from_bytes(data.getvalue())
    assert size == (6000, 4000)
    assert_valid(suggestions, size)
    for suggestion in suggestions:
        assert suggestion.method == "face"
        assert suggestion.box.contains(scene.faces[0])


def test_boxes_follow_the_declared_size_when_it_differs() -> None:
    # The manifest declared 3840x2160; the server sent a 1920x1080 copy. The workflow
    # checks crops against the declared size, so the boxes are in it.
    scene = scenes.face_scene(1920, 1080, [(0.85, 0.3)], 220, seed=4)
    suggestions = engine.suggest_crops(scene.image, grid=(3840, 2160))
    assert_valid(suggestions, (3840, 2160))
    head = scene.faces[0]
    doubled = Box(head.x * 2, head.y * 2, head.width * 2, head.height * 2)
    for suggestion in suggestions:
        assert suggestion.box.contains(doubled)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "CMYK", "I;16"])
def test_any_image_mode(mode: str) -> None:
    scene = scenes.face_scene(800, 600, [(0.7, 0.4)], 150, seed=2)
    if mode == "I;16":
        grey = np.asarray(scene.image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(grey)  # 16-bit grey
    else:
        image = scene.image.convert(mode)
    suggestions = engine.suggest_crops(image)
    assert_valid(suggestions, (800, 600))


@pytest.mark.parametrize(("width", "height"), [(1, 1), (5, 3), (16, 9), (40, 2000)])
def test_tiny_and_odd_images(width: int, height: int) -> None:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    suggestions = engine.suggest_crops(image)
    for suggestion in suggestions:
        assert suggestion.box.inside(width, height)
    for ratio in ASPECT_RATIOS:
        found = [s for s in suggestions if s.aspect_ratio_id == ratio.id]
        if found:
            box = found[0].box
            assert abs((box.width / box.height) / (ratio.width / ratio.height) - 1) <= (
                0.01
            )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html>not found</html>", "not a JPEG, PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not"),
        (b"", "not"),
    ],
)
def test_unreadable_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(engine.ImageUnreadable, match=reason):
        engine.suggest_from_bytes(data)


def test_a_truncated_jpeg_is_refused() -> None:
    data = io.BytesIO()
    scenes.flat_scene(1600, 900).image.save(data, "JPEG")
    with pytest.raises(engine.ImageUnreadable):
        # Only the header and a little of the data: Pillow refuses to decode it.
        engine.suggest_from_bytes(data.getvalue()[:600])


@pytest.mark.parametrize(
    ("size", "reason"),
    [((9000, 8000), "9000x8000 pixels, more than"), ((12000, 9000), "too large")],
)
def test_a_huge_image_is_refused_before_decoding(
    size: tuple[int, int], reason: str
) -> None:
    data = io.BytesIO()
    Image.new("1", size).save(data, "PNG")  # 72 or 108 Mpx in a few kilobytes
    with pytest.raises(engine.ImageUnreadable, match=reason):
        engine.suggest_from_bytes(data.getvalue())


def test_threads_get_the_same_answers() -> None:
    images = [
        scenes.face_scene(1280, 720, [(0.2 + 0.15 * i, 0.4)], 150, seed=i).image
        for i in range(4)
    ]
    alone = [engine.suggest_crops(image) for image in images]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(engine.suggest_crops, images * 2))
    assert together == alone * 2


def test_faces_on_an_empty_grey_image() -> None:
    assert detect_faces(np.full((480, 640), 128, np.uint8)) == []
    assert detect_faces(np.full((10, 10), 128, np.uint8)) == []
