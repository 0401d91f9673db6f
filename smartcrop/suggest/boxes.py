"""Crop boxes in whole pixels: fitting a ratio exactly, placing, scaling.

Every box the engine gives out comes from here, so the rules are in one place:

- A box has whole-pixel coordinates and lies inside its image.
- Its ratio is exact (``k*rw`` x ``k*rh``) whenever the image holds at least one
  ``rw`` x ``rh`` box; only smaller images get the nearest box within the contract's
  1% (``RATIO_TOLERANCE``, the same rule ``smartcrop.renditions.validation`` applies).
- The size is the largest of the ratio that fits the image; analysis (done on a
  scaled-down copy) only chooses *where* it goes, so scaling never touches the size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The contract's tolerance (section 4.1): a crop's ratio may be 1% off its ratio's.
RATIO_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in whole pixels: ``x``, ``y`` of its top-left corner, its size."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def overlap(self, other: Box) -> int:
        """The area the two boxes share."""
        width = min(self.right, other.right) - max(self.x, other.x)
        height = min(self.bottom, other.bottom) - max(self.y, other.y)
        return max(width, 0) * max(height, 0)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(
            x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y
        )

    def inside(self, width: int, height: int) -> bool:
        """Whether the box lies within a ``width`` x ``height`` image."""
        return (
            self.x >= 0
            and self.y >= 0
            and self.width > 0
            and self.height > 0
            and self.right <= width
            and self.bottom <= height
        )


def ratio_error(width: int, height: int, ratio_w: int, ratio_h: int) -> float:
    """How far ``width/height`` is from ``ratio_w/ratio_h``, relatively (0.01 = 1%)."""
    return abs((width / height) / (ratio_w / ratio_h) - 1)


def ratio_ok(width: int, height: int, ratio_w: int, ratio_h: int) -> bool:
    return (
        width > 0
        and height > 0
        and ratio_error(width, height, ratio_w, ratio_h) <= RATIO_TOLERANCE
    )


def largest_size(
    image_w: int, image_h: int, ratio_w: int, ratio_h: int
) -> tuple[int, int] | None:
    """The largest box size of the ratio inside the image, or None if none fits.

    Exact (``k*ratio_w`` x ``k*ratio_h``, k as large as fits) when the image holds at
    least one ``ratio_w`` x ``ratio_h`` box: that loses less than one ratio unit
    (under 16 pixels for 16x9) against the image's side. A smaller image gets the
    largest whole-pixel box within ``RATIO_TOLERANCE``; a tiny one may get none.
    """
    if image_w <= 0 or image_h <= 0 or ratio_w <= 0 or ratio_h <= 0:
        return None
    divisor = math.gcd(ratio_w, ratio_h)
    ratio_w, ratio_h = ratio_w // divisor, ratio_h // divisor
    k = min(image_w // ratio_w, image_h // ratio_h)
    if k >= 1:
        return k * ratio_w, k * ratio_h
    candidates = [(w, round(w * ratio_h / ratio_w)) for w in range(1, image_w + 1)]
    candidates += [(round(h * ratio_w / ratio_h), h) for h in range(1, image_h + 1)]
    fitting = [
        (w, h)
        for w, h in candidates
        if 1 <= w <= image_w and 1 <= h <= image_h and ratio_ok(w, h, ratio_w, ratio_h)
    ]
    return max(fitting, key=lambda size: size[0] * size[1], default=None)


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(round(value), low), high))


def placement_range(
    size: int, extent: int, subject_start: int | None, subject_end: int | None
) -> tuple[int, int] | None:
    """Where a box side of ``size`` may start within ``extent`` so that it covers
    ``[subject_start, subject_end)``; None when the subject is longer than the box."""
    low, high = 0, extent - size
    if subject_start is not None and subject_end is not None:
        if subject_end - subject_start > size:
            return None
        low, high = max(low, subject_end - size), min(high, subject_start)
    if low > high:
        return None
    return low, high


def place(
    size: tuple[int, int],
    image: tuple[int, int],
    *,
    subject: Box | None = None,
    focus: tuple[float, float] | None = None,
    anchor: tuple[float, float] = (0.5, 0.5),
) -> Box:
    """A box of ``size`` inside ``image``, covering ``subject`` when it can.

    The point ``focus`` (default: the subject's centre, else the image's) lands at
    ``anchor`` (fractions of the box; 0.5, 0.4 puts a face a little above the middle,
    leaving room for the shoulders) as nearly as the image and the subject allow.
    """
    width, height = size
    image_w, image_h = image
    if focus is None:
        focus = subject.centre if subject is not None else (image_w / 2, image_h / 2)
    x_range = placement_range(
        width, image_w, *((subject.x, subject.right) if subject else (None, None))
    ) or (0, image_w - width)
    y_range = placement_range(
        height, image_h, *((subject.y, subject.bottom) if subject else (None, None))
    ) or (0, image_h - height)
    x = _clamp(focus[0] - anchor[0] * width, *x_range)
    y = _clamp(focus[1] - anchor[1] * height, *y_range)
    return Box(x, y, width, height)


def scale_out(box: Box, scale_x: float, scale_y: float, image: tuple[int, int]) -> Box:
    """``box`` from an analysis copy to the full image, rounded outwards (so whatever
    it covered there it covers here) and clipped to the image."""
    x = max(math.floor(box.x * scale_x), 0)
    y = max(math.floor(box.y * scale_y), 0)
    right = min(math.ceil(box.right * scale_x), image[0])
    bottom = min(math.ceil(box.bottom * scale_y), image[1])
    return Box(x, y, max(right - x, 1), max(bottom - y, 1))


def grow(
    box: Box,
    image: tuple[int, int],
    left: float,
    top: float,
    right: float,
    bottom: float,
) -> Box:
    """``box`` grown by fractions of its own size on each side, clipped to the image."""
    x = max(math.floor(box.x - left * box.width), 0)
    y = max(math.floor(box.y - top * box.height), 0)
    r = min(math.ceil(box.right + right * box.width), image[0])
    b = min(math.ceil(box.bottom + bottom * box.height), image[1])
    return Box(x, y, r - x, b - y)
