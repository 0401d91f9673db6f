"""Source-image sizes: read once, from the image itself, when a manifest gave none.

Crop boxes are checked against the source image's width and height. When a work item
has none, they are read when an operator claims it: the image is fetched over HTTP(S)
with short timeouts and only until Pillow has parsed its header (a few kilobytes
usually; never more than ``MAX_HEADER_BYTES``), then stored on the row. The fetch goes
through the fetch policy (``smartcrop.netfetch``): a refused URL is never requested.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from PIL import Image, ImageFile
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop import netfetch
from smartcrop.errors import FetchRefused, InvalidInput
from smartcrop.netfetch import FetchPolicy

MAX_HEADER_BYTES = 8 * 1024 * 1024
_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
_CHUNK = 64 * 1024
_PARALLEL_FETCHES = 8


class SourceImageError(Exception):
    """The source image could not be fetched or its size not read."""


def read_image_size(
    url: str,
    *,
    max_bytes: int = MAX_HEADER_BYTES,
    policy: FetchPolicy | None = None,
) -> tuple[int, int]:
    """``(width, height)`` of the image at ``url``, read only as far as its header,
    under the fetch ``policy`` (default: every non-public address refused)."""
    policy = policy or FetchPolicy()
    parser = ImageFile.Parser()
    read = 0
    try:
        with (
            netfetch.make_client(_TIMEOUT) as client,
            netfetch.open_stream(url, policy, client=client) as response,
        ):
            if response.status_code != 200:
                raise SourceImageError(
                    f"the server answered HTTP {response.status_code}"
                )
            for chunk in response.iter_bytes(_CHUNK):
                read += len(chunk)
                parser.feed(chunk)
                if parser.image is not None:
                    return parser.image.size
                if read > max_bytes:
                    raise SourceImageError(
                        f"no image header in its first {max_bytes} bytes"
                    )
    except FetchRefused as exc:
        raise SourceImageError(exc.message) from None
    except httpx.HTTPError as exc:
        raise SourceImageError(
            f"it could not be fetched ({type(exc).__name__})"
        ) from None
    except Image.DecompressionBombError:
        raise SourceImageError("it is too large to process") from None
    except (OSError, SyntaxError, ValueError):
        raise SourceImageError("it is not a readable image") from None
    if parser.image is not None:
        return parser.image.size
    raise SourceImageError("it is not a readable image")


@dataclass(frozen=True)
class _Missing:
    image_id: int
    program_id: str
    url: str


def fill_missing_sizes(
    session: Session,
    image_ids: list[int],
    *,
    read_size: Callable[[str], tuple[int, int]] = read_image_size,
) -> None:
    """Read and store width/height for those of ``image_ids`` that have none.

    Call it outside any transaction holding row locks: it waits on the network. Sizes
    that were read are stored (and committed) even when another image fails, so a
    retry fetches only what is still missing; then a failure is refused (400) naming
    each image that could not be read.
    """
    missing = [
        _Missing(*row)
        for row in session.execute(
            text(
                "SELECT id, link_object_id, imageurl FROM smartcrop_programimage"
                " WHERE id = ANY(:ids) AND (width IS NULL OR height IS NULL)"
                " ORDER BY id"
            ),
            {"ids": list(image_ids)},
        )
    ]
    if not missing:
        return
    session.commit()  # end the read's transaction before waiting on the network

    def attempt(item: _Missing) -> tuple[_Missing, tuple[int, int] | str]:
        try:
            return item, read_size(item.url)
        except SourceImageError as exc:
            return item, str(exc)

    with ThreadPoolExecutor(max_workers=min(_PARALLEL_FETCHES, len(missing))) as pool:
        results = list(pool.map(attempt, missing))

    failures: list[str] = []
    for item, result in results:
        if isinstance(result, str):
            failures.append(
                f"image {item.image_id} of programme {item.program_id}: "
                f"the source image {item.url} cannot be read: {result}"
            )
            continue
        width, height = result
        session.execute(
            text(
                "UPDATE smartcrop_programimage SET width = :w, height = :h,"
                " updatedat = now() WHERE id = :id"
                " AND (width IS NULL OR height IS NULL)"
            ),
            {"w": width, "h": height, "id": item.image_id},
        )
    session.commit()
    if failures:
        raise InvalidInput(
            "; ".join(failures)
            + ". The programme stays claimed by you: reject a broken image with "
            "reason 5 (Broken image link), or try again later"
        )
