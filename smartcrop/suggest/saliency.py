"""Where the interesting part of an image is: the smartcrop.js algorithm.

The features (skin, edges, saturation) and the scoring (an importance map that
favours the box's inner thirds and punishes its edges) are the vendored
``smartcrop_js.SmartCrop``'s own. What this module adds is what smartcrop.js has and
the Python port lacks: *boost regions* (faces) that add ``BOOST_WEIGHT`` to the
features they cover, exactly as smartcrop.js's ``boost`` option does; and a search
over the positions a caller allows (boxes that keep the faces) rather than over every
position.

The features are computed once per image on a small copy and reused for every ratio.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from smartcrop.suggest._vendor.smartcrop_js import SmartCrop
from smartcrop.suggest.boxes import Box

# smartcrop.js's boostWeight: a boosted cell outweighs any feature by far.
BOOST_WEIGHT = 100.0
# An image whose strongest cells exceed its typical (median) cell by less than this
# is flat (a plain colour, a gradient, even noise): nothing in it is worth moving a
# crop for. A small red disc on grass exceeds it eightfold, a photograph twentyfold.
MIN_CONTRAST = 0.004
# Cells standing out at least this share of the strongest one make up the subject.
SUBJECT_LEVEL = 0.5
# ... and only when that group holds this share of all that stands out.
SUBJECT_MIN_SHARE = 0.35
# Positions tried along each axis (evenly spread over the allowed range).
POSITIONS_PER_AXIS = 33

_ALGORITHM = SmartCrop()


@dataclass
class SaliencyMap:
    """Per-cell feature strength of an image, in cells of ``cell_w`` x ``cell_h``
    pixels of the box grid (the image's own pixels, or its declared size)."""

    features: np.ndarray  # float32, rows x cols
    cell_w: float
    cell_h: float
    _importance: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    _excess: np.ndarray | None = None

    @property
    def excess(self) -> np.ndarray:
        """What stands out: each cell's strength above the image's median cell."""
        found = self._excess
        if found is None:
            found = np.clip(self.features - np.median(self.features), 0, None)
            self._excess = found
        return found

    @property
    def salient(self) -> bool:
        """Whether anything stands out (else the centre is as good as anywhere)."""
        return bool(self.features.size) and float(self.excess.max()) >= MIN_CONTRAST

    def cells(self, box: Box) -> tuple[int, int, int, int]:
        rows, cols = self.features.shape
        cx = min(int(box.x / self.cell_w), cols - 1)
        cy = min(int(box.y / self.cell_h), rows - 1)
        cw = max(min(int(box.width / self.cell_w), cols - cx), 1)
        ch = max(min(int(box.height / self.cell_h), rows - cy), 1)
        return cx, cy, cw, ch

    def share(self, box: Box) -> float:
        """The part of what stands out in the image that lies inside ``box`` (0..1)."""
        excess = self.excess
        total = float(excess.sum())
        if total <= 0:
            return 0.0
        cx, cy, cw, ch = self.cells(box)
        return float(excess[cy : cy + ch, cx : cx + cw].sum()) / total

    def subject(self) -> Box | None:
        """The box (grid pixels) around the one thing that stands out, if there is
        one: the connected cells standing out at least half as much as the strongest
        cell (neighbours within one cell joined), the group holding the most, when
        it holds ``SUBJECT_MIN_SHARE`` of all that stands out."""
        if not self.salient:
            return None
        excess = self.excess
        mask = (excess >= SUBJECT_LEVEL * float(excess.max())).astype(np.uint8)
        joined = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        # By keyword: the second positional argument is the labels' output array.
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            joined, connectivity=8
        )
        if count < 2:
            return None
        masses = [float(excess[labels == label].sum()) for label in range(1, count)]
        label = 1 + int(np.argmax(masses))
        if masses[label - 1] < SUBJECT_MIN_SHARE * float(excess.sum()):
            return None  # detail everywhere (most photographs): no single subject
        col, row, cols, rows = (int(v) for v in stats[label][:4])
        # The dilation added a cell on each side; the cells hold the subject.
        col, row = col + 1, row + 1
        cols, rows = max(cols - 2, 1), max(rows - 2, 1)
        x = math.floor(col * self.cell_w)
        y = math.floor(row * self.cell_h)
        right = math.ceil((col + cols) * self.cell_w)
        bottom = math.ceil((row + rows) * self.cell_h)
        grid_w = math.ceil(self.features.shape[1] * self.cell_w - 1e-6)
        grid_h = math.ceil(self.features.shape[0] * self.cell_h - 1e-6)
        right, bottom = min(right, grid_w), min(bottom, grid_h)
        return Box(x, y, max(right - x, 1), max(bottom - y, 1))

    def boosted(self, boosts: Iterable[Box]) -> np.ndarray:
        """The features with ``BOOST_WEIGHT`` added over each boost region."""
        data = self.features.copy()
        for region in boosts:
            cx, cy, cw, ch = self.cells(region)
            data[cy : cy + ch, cx : cx + cw] += BOOST_WEIGHT
        return data

    def importance(self, cw: int, ch: int) -> np.ndarray:
        found = self._importance.get((cw, ch))
        if found is None:
            found = _ALGORITHM.get_importance(height=ch, width=cw) - (
                _ALGORITHM.outside_importance
            )
            self._importance[(cw, ch)] = found
        return found


def _without_border_edges(features: Image.Image) -> Image.Image:
    # Pillow's 3x3 kernel leaves the outermost pixels unfiltered, so the port's edge
    # band holds the plain brightness there: a frame of false edges around every
    # image. smartcrop.js finds none there; neither do we.
    data = np.array(features)
    data[0, :, 1] = data[-1, :, 1] = 0
    data[:, 0, 1] = data[:, -1, 1] = 0
    return Image.fromarray(data, "RGB")


def saliency_map(image: Image.Image, grid: tuple[int, int]) -> SaliencyMap:
    """The features of ``image`` (an RGB analysis copy) for boxes in ``grid`` pixels."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    features_image = _without_border_edges(_ALGORITHM.prepare_features_image(rgb))
    cols = math.ceil(rgb.width / _ALGORITHM.score_down_sample)
    rows = math.ceil(rgb.height / _ALGORITHM.score_down_sample)
    small = features_image.resize((cols, rows), Image.Resampling.LANCZOS)
    features = _ALGORITHM.precompute_features(small)
    return SaliencyMap(
        features=np.clip(features, 0, None).astype(np.float32),
        cell_w=grid[0] / cols,
        cell_h=grid[1] / rows,
    )


def _positions(low: int, high: int) -> list[int]:
    count = min(high - low + 1, POSITIONS_PER_AXIS)
    return sorted({round(v) for v in np.linspace(low, high, count)})


def best_position(
    saliency: SaliencyMap,
    size: tuple[int, int],
    x_range: tuple[int, int],
    y_range: tuple[int, int],
    boosts: Iterable[Box] = (),
) -> tuple[Box, float]:
    """The best-scoring box of ``size`` whose corner lies in the ranges, with its
    smartcrop score. Equal scores go to the position nearest the ranges' middle."""
    data = saliency.boosted(boosts)
    prescore = float(data.sum()) * _ALGORITHM.outside_importance
    middle = ((x_range[0] + x_range[1]) / 2, (y_range[0] + y_range[1]) / 2)
    best: tuple[float, float, Box] | None = None
    for y in _positions(*y_range):
        for x in _positions(*x_range):
            box = Box(x, y, *size)
            cx, cy, cw, ch = saliency.cells(box)
            score = _ALGORITHM.score(
                data, prescore, (cx, cy, cw, ch), saliency.importance(cw, ch)
            )
            distance = abs(x - middle[0]) + abs(y - middle[1])
            if best is None or (score, -distance) > (best[0], -best[1]):
                best = (score, distance, box)
    assert best is not None  # the ranges are never empty
    return best[2], best[0]
