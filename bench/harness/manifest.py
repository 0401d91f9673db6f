"""Seeded provider-manifest rows: 20 columns, with the quirks providers send."""

from __future__ import annotations

import datetime as dt
import random

# The press-site layout's 12 headers among 8 a provider's tool adds (ignored by the
# project, still read by every reader): 20 columns, as real exports have.
MANIFEST_HEADERS: tuple[str, ...] = (
    "Asset ID",
    "Program ID",
    "Program Title",
    "Episode Title",
    "Season",
    "Episode",
    "Network",
    "Air Date",
    "Image URL",
    "Image Type",
    "Language",
    "Width",
    "Height",
    "Rights",
    "Notes",
    "Credit",
    "Caption",
    "Genre",
    "Rating",
    "Last Modified",
)
TITLE_ROWS = 2  # a title line and a blank line above the header (row 3)

TITLES = (
    "Night Court",
    "The Office",
    "Parks and Recreation",
    "Brooklyn Nine-Nine",
    "Law & Order",
    "Saturday Night Live",
    "Chicago Fire",
    "Grey's Anatomy",
    "La Casa de Papel",
    "Ōoku: The Inner Chambers",
    "Les Revenants",
    "Dark",
)
_IMAGE_TYPES = (
    "Poster",
    "key art",
    "KEY_ART",
    "Backdrop",
    "background",
    "Banner",
    "Still",
    "episodic",
    "Logo",
    "Cast",
    "Thumbnail",
    "",
)
_LANGUAGES = (
    "en",
    "eng",
    "English",
    "en-US",
    "es",
    "Spanish",
    "fr",
    "de",
    "pt_BR",
    "ja",
    "xx",
    "Deutsch",
    "",
)
_NETWORKS = ("NBC", "Bravo", "USA", "Syfy", "Peacock", "E!", "Oxygen")
_GENRES = ("Comedy", "Drama", "Reality", "News", "Sports", "Kids")
_RATINGS = ("TV-G", "TV-PG", "TV-14", "TV-MA")
SIZES = ((2000, 3000), (1920, 1080), (3840, 2160), (1280, 720), (1600, 1600))

Cell = str | int | float | dt.date | None

# Image URLs always point at loopback: nothing in a benchmark may reach out. Port 9
# (discard) has no listener, so a fetch fails at once; file_latency serves real
# images on loopback instead (``ImageServer``) for the crop-suggestion runs.
IMAGE_BASE_UNREACHABLE = "http://127.0.0.1:9/images"


def manifest_rows(
    n_rows: int,
    seed: int,
    program_prefix: str = "SH",
    image_base: str = IMAGE_BASE_UNREACHABLE,
) -> list[list[Cell]]:
    """``n_rows`` data rows under ``MANIFEST_HEADERS``, the same for the same seed.

    About 4 images per programme. Quirks, at rates seen in provider files: ids typed
    as numbers, cells padded with spaces, numbers as text, widths like "1,600" or 0,
    missing ids and URLs, ftp and scheme-less URLs, repeated (id, URL) pairs, wholly
    empty rows, dates as date-formatted numbers, Unicode titles, multi-line notes.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    rows: list[list[Cell]] = []
    seen: list[tuple[Cell, Cell]] = []
    program = 0
    image = 0
    for index in range(n_rows):
        roll = rng.random()
        if roll < 0.002:
            rows.append([None] * len(MANIFEST_HEADERS))
            continue
        if image == 0 or rng.random() < 0.25:
            program += 1
            image = 0
        image += 1
        number = program * 7919 % 100_000_000
        program_id: Cell = f"{program_prefix}{number:08d}0000"
        if rng.random() < 0.02:
            program_id = float(number)  # typed as a number, arrives as 1234.0
        elif rng.random() < 0.01:
            program_id = f"  {program_id} "
        elif rng.random() < 0.004:
            program_id = None
        url: Cell = f"{image_base}/{number:08d}/{image:03d}.jpg"
        quirk = rng.random()
        if quirk < 0.004:
            url = None
        elif quirk < 0.007:
            url = f"ftp://127.0.0.1/{number:08d}/{image:03d}.jpg"
        elif quirk < 0.009:
            url = url.split("://", 1)[-1]  # no scheme
        if seen and rng.random() < 0.02:
            program_id, url = seen[rng.randrange(len(seen))]
        elif program_id is not None and url is not None:
            seen.append((program_id, url))
            if len(seen) > 4096:
                seen.pop(0)
        width, height = SIZES[rng.randrange(len(SIZES))]
        w: Cell = width
        h: Cell = height
        quirk = rng.random()
        if quirk < 0.03:
            w, h = str(width), f"{height}.0"
        elif quirk < 0.035:
            w = f"{width // 1000},{width % 1000:03d}"
        elif quirk < 0.037:
            h = 0
        elif quirk < 0.05:
            w = h = None
        title = TITLES[program % len(TITLES)]
        season = float(1 + program % 12) if rng.random() < 0.9 else None
        episode: Cell = float(1 + image) if season is not None else None
        aired = dt.date(2020, 1, 1) + dt.timedelta(days=program % 2000)
        rows.append(
            [
                f"A{index:09d}",
                program_id,
                f" {title} " if rng.random() < 0.01 else title,
                f"Episode {image}" if season is not None else None,
                season,
                episode,
                _NETWORKS[program % len(_NETWORKS)],
                aired,
                url,
                _IMAGE_TYPES[rng.randrange(len(_IMAGE_TYPES))],
                _LANGUAGES[rng.randrange(len(_LANGUAGES))],
                w,
                h,
                "Editorial use only" if rng.random() < 0.3 else None,
                "Approved by studio\nno crop on face" if rng.random() < 0.05 else None,
                "Photo: Studio Press",
                f"{title}, season {season or 1:.0f}",
                _GENRES[program % len(_GENRES)],
                _RATINGS[program % len(_RATINGS)],
                aired + dt.timedelta(days=30),
            ]
        )
    return rows
