"""Whole-pixel boxes: exact ratios, the contract's 1%, placement, scaling."""

from __future__ import annotations

import itertools

import pytest

from smartcrop.lookups import ASPECT_RATIOS
from smartcrop.suggest.boxes import (
    Box,
    grow,
    largest_size,
    place,
    placement_range,
    ratio_error,
    ratio_ok,
    scale_out,
)

SIZES = [
    *((1920, 1080), (2000, 3000), (1999, 1123), (512, 512), (3840, 2160)),
    *((451, 300), (17, 9), (15, 9), (16, 8), (3, 4), (2, 2), (1, 1), (1, 2000)),
    (4000, 3),
]


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("ratio", ASPECT_RATIOS, ids=lambda r: r.title)
def test_largest_size_fits_and_keeps_the_ratio(width, height, ratio) -> None:
    size = largest_size(width, height, ratio.width, ratio.height)
    if size is None:
        # Only when no whole-pixel box within 1% exists at all.
        assert not any(
            ratio_ok(w, h, ratio.width, ratio.height)
            for w, h in itertools.product(range(1, width + 1), range(1, height + 1))
        )
        return
    w, h = size
    assert 0 < w <= width and 0 < h <= height
    assert ratio_ok(w, h, ratio.width, ratio.height)
    if width >= ratio.width and height >= ratio.height:
        # Exact, and less than one ratio unit short of filling one side.
        assert w * ratio.height == h * ratio.width
        assert width - w < ratio.width or height - h < ratio.height


def test_the_largest_box_is_as_large_as_the_image_allows() -> None:
    assert largest_size(1920, 1080, 16, 9) == (1920, 1080)
    assert largest_size(2000, 3000, 16, 9) == (2000, 1125)
    assert largest_size(2000, 3000, 2, 3) == (2000, 3000)
    assert largest_size(1999, 1123, 16, 9) == (1984, 1116)
    assert largest_size(512, 512, 1, 1) == (512, 512)
    # Smaller than one ratio unit: the nearest box within 1%.
    assert (
        largest_size(15, 9, 16, 9) is None
        or ratio_error(*largest_size(15, 9, 16, 9), 16, 9) <= 0.01
    )
    assert largest_size(0, 10, 1, 1) is None


def test_ratio_error_is_the_contracts_measure() -> None:
    assert ratio_error(1920, 1080, 16, 9) == 0
    assert ratio_ok(1938, 1080, 16, 9)  # 0.94% wide
    assert not ratio_ok(1940, 1080, 16, 9)  # 1.04% wide


def test_place_covers_the_subject_and_stays_inside() -> None:
    subject = Box(1700, 100, 150, 200)
    box = place((1080, 1080), (1920, 1080), subject=subject)
    assert box.inside(1920, 1080) and box.contains(subject)
    assert box.x == 840  # pushed against the right edge
    centred = place((1080, 1080), (1920, 1080))
    assert centred == Box(420, 0, 1080, 1080)


def test_placement_range() -> None:
    assert placement_range(100, 1000, 450, 520) == (420, 450)
    assert placement_range(100, 1000, 0, 150) is None  # longer than the box
    assert placement_range(100, 1000, None, None) == (0, 900)
    assert placement_range(100, 1000, 950, 1000) == (900, 900)


def test_scaling_out_covers_what_it_covered() -> None:
    small = Box(10, 20, 30, 40)
    big = scale_out(small, 3.37, 3.37, (1000, 1000))
    assert big.x <= 10 * 3.37 and big.right >= 40 * 3.37
    assert big.y <= 20 * 3.37 and big.bottom >= 60 * 3.37
    assert scale_out(Box(0, 0, 100, 100), 10, 10, (500, 700)) == Box(0, 0, 500, 700)


def test_grow_is_clipped_to_the_image() -> None:
    grown = grow(Box(5, 5, 100, 100), (150, 150), 0.25, 0.5, 0.25, 0.5)
    assert grown == Box(0, 0, 130, 150)
