"""Every refusal of a rendition image and crop box (contract 4.1)."""

from __future__ import annotations

import base64
import io
import zlib

import pytest
from PIL import Image

from smartcrop.errors import InvalidInput
from smartcrop.renditions.validation import (
    AspectRatioSpec,
    CropBox,
    check_crop_box,
    decode_image,
)
from tests.support.work_items import image_b64

SIXTEEN_NINE = AspectRatioSpec(1, "16x9", 16, 9)
SQUARE = AspectRatioSpec(5, "1x1", 1, 1)
MAX = 10 * 1024 * 1024


def decode(b64: str, width: int = 32, height: int = 18, max_bytes: int = MAX):
    return decode_image(b64, width=width, height=height, max_bytes=max_bytes, label="r")


def test_a_png_and_a_jpeg_are_accepted_with_their_real_format() -> None:
    png = decode(image_b64(32, 18, "PNG"))
    assert (png.extension, png.content_type, png.width) == ("png", "image/png", 32)
    jpeg = decode(image_b64(32, 18, "JPEG"))
    assert (jpeg.extension, jpeg.content_type) == ("jpg", "image/jpeg")


def test_a_data_url_prefix_is_accepted_but_the_real_format_wins() -> None:
    # The prefix claims PNG; the bytes are JPEG: stored as what they are.
    decoded = decode("data:image/png;base64," + image_b64(32, 18, "JPEG"))
    assert decoded.extension == "jpg"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not base64 at all!", "not valid base64"),
        ("QUJDRA", "not valid base64"),
        (base64.b64encode(b"hello, world").decode(), "not a PNG or JPEG"),
        (image_b64(32, 18, "GIF"), "not a PNG or JPEG"),
        (image_b64(32, 18, "BMP"), "not a PNG or JPEG"),
        (image_b64(32, 18, "WEBP"), "not a PNG or JPEG"),
    ],
)
def test_what_is_not_a_png_or_jpeg_is_refused(payload: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode(payload)


def test_png_magic_on_a_broken_file_is_refused() -> None:
    data = base64.b64decode(image_b64(32, 18, "PNG"))
    broken = data[:40] + b"\x00" * 20 + data[60:]
    with pytest.raises(InvalidInput, match="not a readable PNG"):
        decode(base64.b64encode(broken).decode())


def test_an_image_not_of_its_crop_box_size_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is 32x18, not the 64x36"):
        decode(image_b64(32, 18), width=64, height=36)


def test_an_image_over_the_byte_limit_is_refused_before_and_after_decoding() -> None:
    payload = image_b64(32, 18, "PNG")
    size = len(base64.b64decode(payload))
    assert decode(payload, max_bytes=size).data
    with pytest.raises(InvalidInput, match="larger than"):
        decode(payload, max_bytes=size - 1)
    with pytest.raises(InvalidInput, match="larger than"):
        decode("A" * 4000, max_bytes=100)  # refused from its length alone


def _png_bomb(width: int, height: int) -> str:
    """A valid-looking PNG header announcing a huge image, with a tiny body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    ihdr = (
        width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    )
    data = zlib.compress(b"\x00" * 1024)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data)
    return base64.b64encode(png + chunk(b"IEND", b"")).decode()


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    with pytest.raises(InvalidInput, match="not the 32x18"):
        decode(_png_bomb(60000, 60000))
    # Even when the box claims the bomb's size, Pillow's pixel limit refuses it.
    with pytest.raises(InvalidInput, match="far more pixels"):
        decode(_png_bomb(30000, 30000), width=30000, height=30000)


def test_a_truncated_jpeg_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), (1, 2, 3)).save(buffer, "JPEG")
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 3]
    with pytest.raises(InvalidInput):
        decode(base64.b64encode(cut).decode(), width=320, height=180)


def box_check(box: CropBox, aspect: AspectRatioSpec = SIXTEEN_NINE, w=2000, h=3000):
    check_crop_box(box, aspect, source_width=w, source_height=h, label="r")


def test_a_box_inside_the_source_with_the_right_ratio_passes() -> None:
    box_check(CropBox(0, 0, 1920, 1080))
    box_check(CropBox(80, 1920, 1920, 1080))  # touching the right and bottom edges
    box_check(CropBox(0, 0, 1000, 1000), SQUARE)
    box_check(CropBox(0, 0, 1927, 1080))  # 0.36% off: inside the 1% tolerance


@pytest.mark.parametrize(
    "box",
    [
        CropBox(81, 0, 1920, 1080),
        CropBox(0, 1921, 1920, 1080),
        CropBox(0, 0, 2048, 1152),
    ],
)
def test_a_box_leaving_the_source_is_refused(box: CropBox) -> None:
    with pytest.raises(InvalidInput, match="leaves the 2000x3000 source"):
        box_check(box)


def test_a_negative_or_empty_box_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must not be negative"):
        box_check(CropBox(-1, 0, 160, 90))
    with pytest.raises(InvalidInput, match="must be positive"):
        box_check(CropBox(0, 0, 0, 90))


def test_a_ratio_more_than_one_percent_off_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is not 16x9"):
        box_check(CropBox(0, 0, 1920, 1100))  # 1.8% off
    with pytest.raises(InvalidInput, match="is not 1x1"):
        box_check(CropBox(0, 0, 1000, 1011), SQUARE)  # 1.09% off


def test_an_unknown_source_size_is_refused() -> None:
    with pytest.raises(InvalidInput, match="size is not known"):
        check_crop_box(
            CropBox(0, 0, 16, 9),
            SIXTEEN_NINE,
            source_width=None,
            source_height=None,
            label="r",
        )
