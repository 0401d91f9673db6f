"""Checking a rendition of a SaveCrops request (contract 4.1) before anything is stored.

Cheap checks first, so a hostile request costs little: the crop box and ratio are plain
arithmetic; the base64 length bounds the decoded size before decoding; the image header
(read without decoding pixels) must announce exactly ``Width`` x ``Height``, which the
box check has already bounded by the source image, so a decompression bomb is refused
before Pillow decodes it. Only then are the pixels decoded, to refuse truncated or
corrupt files.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from smartcrop.errors import InvalidInput

# Allowed relative difference between a crop's ratio and its aspect ratio's.
RATIO_TOLERANCE = 0.01

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
# canvas.toDataURL() output: a data-URL prefix the legacy frontend may send as is.
_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.I)


@dataclass(frozen=True)
class AspectRatioSpec:
    id: int
    title: str
    ratio_width: int
    ratio_height: int


@dataclass(frozen=True)
class CropBox:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class DecodedImage:
    data: bytes
    extension: str  # "png" or "jpg": the real format, whatever the client claimed
    content_type: str
    width: int
    height: int


def check_crop_box(
    box: CropBox,
    aspect: AspectRatioSpec,
    *,
    source_width: int | None,
    source_height: int | None,
    label: str,
) -> None:
    """The box lies inside the source image and has the aspect ratio (within 1%)."""
    if box.width <= 0 or box.height <= 0:
        raise InvalidInput(f"{label}: Width and Height must be positive")
    if box.x < 0 or box.y < 0:
        raise InvalidInput(f"{label}: X and Y must not be negative")
    if source_width is None or source_height is None:
        raise InvalidInput(
            f"{label}: the source image's size is not known, so the crop cannot be "
            "checked; claim the programme again to read it"
        )
    if box.x + box.width > source_width or box.y + box.height > source_height:
        raise InvalidInput(
            f"{label}: the crop box ({box.x},{box.y}) {box.width}x{box.height} leaves "
            f"the {source_width}x{source_height} source image"
        )
    wanted = aspect.ratio_width / aspect.ratio_height
    actual = box.width / box.height
    if abs(actual / wanted - 1) > RATIO_TOLERANCE:
        raise InvalidInput(
            f"{label}: {box.width}x{box.height} is not {aspect.title} "
            f"(ratio {actual:.4f}, expected {wanted:.4f} within 1%)"
        )


def decode_image(
    image_base64: str, *, width: int, height: int, max_bytes: int, label: str
) -> DecodedImage:
    """Decode and check one rendition image; refuses with a message naming ``label``."""
    payload = _DATA_URL.sub("", image_base64.strip(), count=1)
    payload = "".join(payload.split())  # line-wrapped base64 is still base64
    # 4 base64 characters carry 3 bytes: refuse an oversized image before decoding.
    if (len(payload) // 4) * 3 - 2 > max_bytes:
        raise _too_big(label, max_bytes)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{label}: ImageBase64 is not valid base64") from None
    if len(data) > max_bytes:
        raise _too_big(label, max_bytes)
    if data.startswith(_PNG_MAGIC):
        expected_format, extension, content_type = "PNG", "png", "image/png"
    elif data.startswith(_JPEG_MAGIC):
        expected_format, extension, content_type = "JPEG", "jpg", "image/jpeg"
    else:
        raise InvalidInput(f"{label}: ImageBase64 is not a PNG or JPEG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected_format]) as image:
                if image.size != (width, height):
                    raise InvalidInput(
                        f"{label}: the image is {image.width}x{image.height}, "
                        f"not the {width}x{height} of its crop box"
                    )
                image.load()  # the header was honest: now decode, to refuse damage
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses to open it at all: its header announces a huge image.
        raise InvalidInput(
            f"{label}: the image announces far more pixels than may be decoded; "
            f"it is not the {width}x{height} of its crop box"
        ) from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise InvalidInput(
            f"{label}: ImageBase64 is not a readable {expected_format} image"
        ) from None
    return DecodedImage(data, extension, content_type, width, height)


def _too_big(label: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(
        f"{label}: the image is larger than the {max_bytes} bytes a rendition may have"
    )
