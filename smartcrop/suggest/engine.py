"""Suggested crops: for a source image and each aspect ratio, the best box inside it.

For each ratio of ``smartcrop.lookups.ASPECT_RATIOS`` the box is the largest of that
ratio the image holds (``boxes.largest_size``); only its position is chosen:

1. **face**: the faces OpenCV's Haar cascades find (``faces``) are kept, largest first,
   with some room around them when it fits; among the positions that keep them, the
   smartcrop.js score (with the faces as boost regions) picks the one that frames
   them best. Score: the share of the detected faces' area inside the box.
2. **saliency**: no face, or none that fits: the smartcrop.js score over every
   position (any faces still boost it). Score: the share of the image's feature
   strength (edges, skin, saturation) inside the box.
3. **centre**: nothing stands out (a flat image): the centred box. Score 0.

Analysis runs on scaled-down copies (``FACE_PIXELS`` pixels for faces,
``SALIENCY_SIDE`` on the longer side for saliency) and works in *grid* pixels: the
image's own size, or the size the work item declares (``grid=``) when that differs,
since the workflow checks crop boxes against the declared size. Sizes never go
through scaling; positions are whole grid pixels; every box lies inside the grid.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from smartcrop.lookups import ASPECT_RATIOS, AspectRatio
from smartcrop.suggest import boxes
from smartcrop.suggest.boxes import Box
from smartcrop.suggest.faces import Face, detect_faces
from smartcrop.suggest.saliency import SaliencyMap, best_position, saliency_map

METHODS = ("face", "saliency", "centre")
# Analysis sizes: faces on a copy of at most FACE_PIXELS pixels (Haar's cost grows
# with the area; a wide panorama keeps enough height for its faces), saliency on a
# copy no longer than SALIENCY_SIDE (smartcrop.js works at that scale).
FACE_PIXELS = 400_000
SALIENCY_SIDE = 384
# Room kept around a face when it fits: hair above, chin and neck below.
FACE_MARGINS = {"left": 0.25, "top": 0.45, "right": 0.25, "bottom": 0.35}
# Images larger than this are refused rather than decoded (a decompression bomb, or
# nothing a provider would send as a programme image: 8K is 33 Mpx). Decoded, the
# largest allowed takes 180 MB, so four at once stay well within a small machine.
MAX_PIXELS = 60_000_000
# Formats a provider's image may come in (what browsers show).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class ImageUnreadable(ValueError):
    """The bytes are not an image the engine can analyse; the message says why."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    aspect_ratio_id: int
    aspect_ratio: str
    box: Box
    score: float
    method: str  # one of METHODS

    def payload(self) -> dict[str, Any]:
        """The API's shape (PascalCase, as the rest of the contract)."""
        return {
            "AspectRatioId": self.aspect_ratio_id,
            "AspectRatio": self.aspect_ratio,
            "X": self.box.x,
            "Y": self.box.y,
            "Width": self.box.width,
            "Height": self.box.height,
            "Score": self.score,
            "Method": self.method,
        }


@dataclass(frozen=True)
class Analysis:
    """What the engine found in one image, in grid pixels."""

    grid: tuple[int, int]
    image_size: tuple[int, int]
    faces: list[Face]
    saliency: SaliencyMap


def open_image(data: bytes) -> Image.Image:
    """Open image bytes for analysis (header only; pixels are decoded later)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(_unreadable(exc)) from None
    except Image.DecompressionBombWarning:
        raise ImageUnreadable("it is too large to analyse") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageUnreadable(f"it is not a readable image ({exc})") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageUnreadable("it has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageUnreadable(
            f"it is {width}x{height} pixels, more than the {MAX_PIXELS:,} analysed"
        )
    return image


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return "it is too large to analyse"
    return "it is not a JPEG, PNG, WebP, GIF or BMP image"


def analysis_copy(image: Image.Image, pixels: int = FACE_PIXELS) -> Image.Image:
    """An RGB copy of at most ``pixels`` pixels (JPEGs decode at a reduced scale)."""
    scale = min(1.0, (pixels / (image.width * image.height)) ** 0.5)
    try:
        if image.format == "JPEG" and scale < 1:
            # Decodes at 1/2, 1/4 or 1/8 scale, never below the size asked for.
            image.draft(
                "RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale))
            )
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageUnreadable(f"its pixels cannot be decoded ({exc})") from None
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16-bit or float grey: scale to 8 bits (Pillow's own conversion clips).
        values = np.asarray(image, dtype=np.float32)
        top = float(values.max()) or 1.0
        image = Image.fromarray(np.clip(values * (255 / top), 0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        rgb = Image.alpha_composite(backdrop, rgba).convert("RGB")
    else:
        rgb = image.convert("RGB")
    scale = min(1.0, (pixels / (rgb.width * rgb.height)) ** 0.5)
    if scale < 1:
        rgb = rgb.resize(
            (max(round(rgb.width * scale), 1), max(round(rgb.height * scale), 1)),
            Image.Resampling.BILINEAR,
            reducing_gap=2.0,
        )
    return rgb


def analyse(image: Image.Image, grid: tuple[int, int] | None = None) -> Analysis:
    """Find the faces and the features of ``image``, in ``grid`` pixels."""
    image_size = image.size
    grid = grid or image_size
    copy = analysis_copy(image)
    scale_x, scale_y = grid[0] / copy.width, grid[1] / copy.height
    faces = [
        Face(boxes.scale_out(face.box, scale_x, scale_y, grid), face.confidence)
        for face in detect_faces(np.asarray(copy.convert("L")))
    ]
    small = copy
    if max(copy.size) > SALIENCY_SIDE:
        factor = SALIENCY_SIDE / max(copy.size)
        small = copy.resize(
            (max(round(copy.width * factor), 1), max(round(copy.height * factor), 1)),
            Image.Resampling.BILINEAR,
        )
    return Analysis(grid, image_size, faces, saliency_map(small, grid))


def _span(core: tuple[int, int], roomy: tuple[int, int], size: int) -> tuple[int, int]:
    """One axis of the subject: the faces' own extent (``core``), widened towards the
    extent with room around them (``roomy``) as far as ``size`` allows."""
    if roomy[1] - roomy[0] <= size:
        return roomy
    spare = size - (core[1] - core[0])
    low = max(roomy[0], core[0] - spare // 2)
    high = min(roomy[1], low + (core[1] - core[0]) + spare)
    return low, max(high, core[1])


def _face_subject(
    faces: list[Face], size: tuple[int, int], grid: tuple[int, int]
) -> tuple[Box | None, list[Face]]:
    """The faces a box of ``size`` can keep (largest first) and the box to keep: around
    them, with room for hair and chin as far as the size allows. (None, []) when not
    even the largest face fits."""
    core: Box | None = None
    kept: list[Face] = []
    for face in faces:
        union = face.box if core is None else core.union(face.box)
        if union.width <= size[0] and union.height <= size[1]:
            core = union
            kept.append(face)
    if core is None:
        return None, []
    roomy = boxes.grow(kept[0].box, grid, **FACE_MARGINS)
    for face in kept[1:]:
        roomy = roomy.union(boxes.grow(face.box, grid, **FACE_MARGINS))
    x0, x1 = _span((core.x, core.right), (roomy.x, roomy.right), size[0])
    y0, y1 = _span((core.y, core.bottom), (roomy.y, roomy.bottom), size[1])
    return Box(x0, y0, x1 - x0, y1 - y0), kept


def _face_share(box: Box, faces: list[Face]) -> float:
    total = sum(face.box.area for face in faces)
    inside = sum(box.overlap(face.box) for face in faces)
    return round(inside / total, 4) if total else 0.0


def suggest_for(analysis: Analysis, ratio: AspectRatio) -> Suggestion | None:
    """The suggestion for one ratio (None when the image is too small to hold one)."""
    grid = analysis.grid
    size = boxes.largest_size(grid[0], grid[1], ratio.width, ratio.height)
    if size is None:
        return None
    face_boxes = [face.box for face in analysis.faces]
    subject, kept = _face_subject(analysis.faces, size, grid)
    if subject is not None:
        x_range = boxes.placement_range(size[0], grid[0], subject.x, subject.right)
        y_range = boxes.placement_range(size[1], grid[1], subject.y, subject.bottom)
        if x_range is not None and y_range is not None:
            box, _ = best_position(
                analysis.saliency, size, x_range, y_range, [f.box for f in kept]
            )
            return Suggestion(
                ratio.id,
                ratio.title,
                box,
                _face_share(box, analysis.faces),
                "face",
            )
    if analysis.saliency.salient or face_boxes:
        # Keep the strongest thing whole when the box can hold it: smartcrop.js
        # alone would rather cut a subject near the border off than frame it there.
        x_range = y_range = None
        subject = analysis.saliency.subject()
        if subject is not None:
            x_range = boxes.placement_range(size[0], grid[0], subject.x, subject.right)
            y_range = boxes.placement_range(size[1], grid[1], subject.y, subject.bottom)
        if x_range is None or y_range is None:
            x_range, y_range = (0, grid[0] - size[0]), (0, grid[1] - size[1])
        box, _ = best_position(analysis.saliency, size, x_range, y_range, face_boxes)
        return Suggestion(
            ratio.id,
            ratio.title,
            box,
            round(analysis.saliency.share(box), 4),
            "saliency",
        )
    return Suggestion(ratio.id, ratio.title, boxes.place(size, grid), 0.0, "centre")


def suggest(
    analysis: Analysis, ratios: Iterable[AspectRatio] = ASPECT_RATIOS
) -> list[Suggestion]:
    found = (suggest_for(analysis, ratio) for ratio in ratios)
    return [suggestion for suggestion in found if suggestion is not None]


def suggest_crops(
    image: Image.Image,
    *,
    grid: tuple[int, int] | None = None,
    ratios: Iterable[AspectRatio] = ASPECT_RATIOS,
) -> list[Suggestion]:
    """The suggested box of each ratio for ``image`` (in ``grid`` pixels, default the
    image's own), best first by nothing: in the order of ``ratios``."""
    return suggest(analyse(image, grid), ratios)


def suggest_from_bytes(
    data: bytes,
    *,
    grid: tuple[int, int] | None = None,
    ratios: Iterable[AspectRatio] = ASPECT_RATIOS,
) -> tuple[tuple[int, int], list[Suggestion]]:
    """``(image size, suggestions)`` for an encoded image; ImageUnreadable if it is
    not one."""
    image = open_image(data)
    size = image.size
    return size, suggest_crops(image, grid=grid, ratios=ratios)
