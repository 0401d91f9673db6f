"""What every benchmark shares: seeded data, a throw-away PostgreSQL, timing, results.

- Data: ``manifest_rows`` makes a seeded provider manifest (20 columns, the quirks
  providers send) and ``write_xlsx`` writes it as a real ``.xlsx`` (shared strings,
  a date style, a title above the header) quickly, without a spreadsheet library.
- PostgreSQL: ``BenchDatabase`` starts the project's embedded server
  (``smartcrop.db.embedded.embedded_url``) in a temporary folder, migrates one
  template database and clones a fresh database from it for every measured run.
- Timing: each measured run is a child process (``run_child``) that times only the
  work with ``time.perf_counter`` and reports back; its peak RSS comes from
  ``os.wait4``. ``Stats`` gives the median and min over the runs.
- Results: ``write_result`` writes ``NAME.json`` (the keys benchmark, metric, project,
  baseline, ratio, target, met, runs, machine, ...) and ``NAME.md`` beside it.

The absolute numbers move with whatever else the machine runs; the baselines are
measured in the same run, so the ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_SEED = 20261120
DEFAULT_RUNS = 3

# The embedded-server package asks platformdirs for a runtime folder; machines
# without a login session have none, and the warning says nothing about the benchmark.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# ---------------------------------------------------------------------------------
# Command line shared by the benchmark modules
# ---------------------------------------------------------------------------------


def parse_args(
    description: str,
    argv: Sequence[str] | None = None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    if extra is not None:
        extra(parser)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data and one run: checks the script works, measures nothing",
    )
    parser.add_argument("--runs", type=int, default=None, help="measured runs (>= 3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where NAME.json and NAME.md go (default bench/results; smoke runs "
        "default to a temporary folder so they never overwrite real results)",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="pyinstrument profile of the project's path: when a target is missed "
        "(auto), every time, or never",
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.smoke else DEFAULT_RUNS
    if args.results_dir is None:
        args.results_dir = (
            Path(tempfile.mkdtemp(prefix="smartcrop-bench-smoke-"))
            if args.smoke
            else RESULTS_DIR
        )
    return args


def log(message: str) -> None:
    """Progress for the person watching (stderr, so stdout stays for results)."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------
# Seeded manifest data
# ---------------------------------------------------------------------------------

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

_TITLES = (
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
_SIZES = ((2000, 3000), (1920, 1080), (3840, 2160), (1280, 720), (1600, 1600))

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
        width, height = _SIZES[rng.randrange(len(_SIZES))]
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
        title = _TITLES[program % len(_TITLES)]
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


# ---------------------------------------------------------------------------------
# A fast, plain .xlsx writer (shared strings and one date style, as Excel writes)
# ---------------------------------------------------------------------------------

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = dt.date(1899, 12, 30)
_DATE_STYLE = 1  # index in cellXfs below: numFmtId 14 (m/d/yyyy)

_CONTENT_TYPES = (
    _XML_HEAD
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_CT}.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{_CT}.sharedStrings+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    _XML_HEAD + f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
    '<sheet name="Images" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS_REL}/sharedStrings" '
    'Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Cell]],
    headers: Sequence[str] = MANIFEST_HEADERS,
    title: str | None = "Press site image export",
) -> Path:
    """Write a one-sheet workbook: optional title row and a blank row, the header,
    then ``rows``. Strings go to the shared-strings table, dates are numbers with a
    date style, None is no cell at all."""
    strings: dict[str, int] = {}

    def sst(text: str) -> int:
        found = strings.get(text)
        if found is None:
            found = strings[text] = len(strings)
        return found

    letters = [_column_letters(i) for i in range(len(headers))]
    lines: list[str] = []
    row_number = 0
    if title is not None:
        row_number = TITLE_ROWS
        lines.append(f'<row r="1"><c r="A1" t="s"><v>{sst(title)}</v></c></row>')
    all_rows: list[Sequence[Cell]] = [list(headers), *rows]
    for values in all_rows:
        row_number += 1
        cells: list[str] = []
        for letter, value in zip(letters, values, strict=False):
            if value is None:
                continue
            ref = f"{letter}{row_number}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" t="s"><v>{sst(value)}</v></c>')
            elif isinstance(value, dt.date):
                serial = (value - _EPOCH).days
                cells.append(f'<c r="{ref}" s="{_DATE_STYLE}"><v>{serial}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        if cells:
            lines.append(f'<row r="{row_number}">{"".join(cells)}</row>')
    last = f"{letters[-1]}{row_number}"
    sheet = (
        _XML_HEAD + f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<dimension ref="A1:{last}"/><sheetData>'
        + "".join(lines)
        + "</sheetData></worksheet>"
    )
    shared = [
        (
            f'<si><t xml:space="preserve">{escape(text)}</t></si>'
            if text != text.strip()
            else f"<si><t>{escape(text)}</t></si>"
        )
        for text in strings
    ]
    shared_xml = (
        _XML_HEAD + f'<sst xmlns="{_NS_MAIN}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">' + "".join(shared) + "</sst>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("xl/sharedStrings.xml", shared_xml)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def write_manifest(path: Path, n_rows: int, seed: int, **kw: Any) -> Path:
    return write_xlsx(path, manifest_rows(n_rows, seed, **kw))


def write_manifest_in_child(path: Path, n_rows: int, seed: int, **kw: Any) -> Path:
    """``write_manifest`` in a child process: a 100,000-row manifest takes a few
    hundred MB of Python objects to build, which the benchmark process must not
    keep (every child it forks would start from that size)."""
    run_child(
        "bench.common",
        "write_manifest",
        {"path": str(path), "n_rows": n_rows, "seed": seed, **kw},
    )
    return path


def _task_write_manifest(p: dict[str, Any]) -> dict[str, Any]:
    path = Path(p.pop("path"))
    write_manifest(path, p.pop("n_rows"), p.pop("seed"), **p)
    return {"path": str(path)}


# ---------------------------------------------------------------------------------
# A loopback image server (for code that fetches source images)
# ---------------------------------------------------------------------------------


def small_jpeg(width: int = 320, height: int = 180) -> bytes:
    """A small JPEG with some structure (a gradient and a bright block)."""
    import io  # noqa: PLC0415

    from PIL import Image, ImageDraw  # noqa: PLC0415

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).ellipse(
        (width // 3, height // 4, width // 2, height * 3 // 4), fill=(240, 200, 170)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class ImageServer:
    """Answers every GET on 127.0.0.1 with one small JPEG, in a thread.

    ``base_url`` is what to put in manifests so that image fetches stay on this
    machine and cost what a fast CDN would."""

    def __init__(self) -> None:
        from http.server import (  # noqa: PLC0415
            BaseHTTPRequestHandler,
            ThreadingHTTPServer,
        )
        from threading import Thread  # noqa: PLC0415

        body = small_jpeg()
        self.requests = 0
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server_self.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/images"
        self._thread = Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ImageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------
# A throw-away PostgreSQL (the project's embedded server in a temporary folder)
# ---------------------------------------------------------------------------------


class BenchDatabase:
    """The embedded server in a temporary folder, one migrated template, and a fresh
    database cloned from it per measured run (``CREATE DATABASE ... TEMPLATE``)."""

    def __init__(self) -> None:
        from smartcrop.db.embedded import embedded_url  # noqa: PLC0415
        from smartcrop.db.migrate import upgrade  # noqa: PLC0415

        self.root = Path(tempfile.mkdtemp(prefix="smartcrop-bench-pg-"))
        self.data_dir = self.root / "data"
        self.admin_url = embedded_url(self.data_dir)
        self.template = self.create()
        upgrade(self.url_for(self.template))
        self._made: list[str] = []

    # -- URLs ------------------------------------------------------------------
    def url_for(self, name: str) -> str:
        from sqlalchemy import make_url  # noqa: PLC0415

        return (
            make_url(self.admin_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    @staticmethod
    def libpq(url: str) -> str:
        from smartcrop.db import libpq_url  # noqa: PLC0415

        return libpq_url(url)

    def _admin(self, sql: str) -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)

    # -- databases ---------------------------------------------------------------
    def create(self, template: str | None = None) -> str:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{name}"{clause}')
        return name

    def fresh(self, template: str | None = None) -> str:
        """A new database cloned from ``template`` (default: the migrated one)."""
        name = self.create(template or self.template)
        self._made.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        from sqlalchemy import make_url  # noqa: PLC0415

        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def server_version(self) -> str:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.libpq(self.admin_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def close(self) -> None:
        from smartcrop.db.embedded import stop_embedded  # noqa: PLC0415

        with contextlib.suppress(Exception):
            stop_embedded(self.data_dir)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_config(folder: Path, db_url: str, sensor_interval: int | None = None) -> Path:
    """A SmartCrop settings file whose every folder is under ``folder`` and whose
    database is ``db_url``: a benchmark never touches the working tree's .smartcrop/."""
    import yaml  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "database": {"url": db_url, "embedded_dir": str(folder / "pgdata")},
        "processing_middleware": {
            "local_filesystem": {
                "root_path": str(folder / "staging"),
                "quarantine_path": str(folder / "quarantine"),
                "work_dir": str(folder / "work"),
            }
        },
        "smartcrop_service": {
            "storage": {"local_root": str(folder / "renditions")},
            "auth": {"secret_file": str(folder / "jwt_secret")},
        },
        "smartcrop_filewatcher_batchjob": {"output_dir": str(folder / "outbound")},
        "smartcrop_dumpdata": {"local_path": str(folder / "dumps")},
    }
    if sensor_interval is not None:
        config["filewatcher"] = {"sensor_interval_seconds": sensor_interval}
    path = folder / "smartcrop.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def dagster_home(folder: Path) -> Path:
    """A DAGSTER_HOME holding a copy of the repository's dagster.yaml (as
    ``smartcrop dagster`` makes one), so runs and their storage are the real ones."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", folder / "dagster.yaml")
    return folder


# ---------------------------------------------------------------------------------
# Seeding the workflow tables directly (fast, for the claims, export and API data)
# ---------------------------------------------------------------------------------

BENCH_PASSWORD = "bench passphrase, loopback only"  # noqa: S105 - throw-away users


def create_users(url: str, role: str, count: int, prefix: str) -> list[tuple[int, str]]:
    """``count`` active users of ``role`` (through the project's create_user, so the
    password hashes are real): [(id, e-mail)]."""
    from sqlalchemy import create_engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop.users import create_user  # noqa: PLC0415

    engine = create_engine(url)
    made: list[tuple[int, str]] = []
    try:
        with Session(engine) as session, session.begin():
            for i in range(1, count + 1):
                email = f"{prefix}{i}@bench.example"
                user = create_user(
                    session,
                    name=f"{prefix.title()} {i}",
                    email=email,
                    password=BENCH_PASSWORD,
                    role_name=role,
                )
                made.append((user.id, email))
    finally:
        engine.dispose()
    return made


_ITEM_COLUMNS = (
    "link_object_id",
    "providername",
    "programtitle",
    "imageurl",
    "imagetypeid",
    "imagetype",
    "languageid",
    "language",
    "width",
    "height",
    "rights",
    "notes",
    "status",
    "currentstate",
    "rejectreasonid",
    "croppedby",
    "croppedat",
    "completedby",
    "completedat",
    "createdat",
)
_ITEM_TYPES = (
    "varchar",
    "varchar",
    "text",
    "text",
    "int2",
    "text",
    "int2",
    "text",
    "int4",
    "int4",
    "text",
    "text",
    "int2",
    "int2",
    "int2",
    "int4",
    "timestamptz",
    "int4",
    "timestamptz",
    "timestamptz",
)


def seed_work_items(
    url: str,
    *,
    programmes: int,
    images_per_programme: int,
    seed: int,
    provider: str = "NBCU",
    statuses: Sequence[tuple[int, float]] = ((1, 1.0),),
    user_id: int | None = None,
    image_base: str = IMAGE_BASE_UNREACHABLE,
) -> int:
    """Work items straight into ``smartcrop_programimage`` with one binary COPY:
    ``programmes`` x ``images_per_programme`` rows, all free, their status drawn
    from ``statuses`` (status, weight) per programme; sizes always known (so no
    claim fetches an image). Rows of status >= 2 name ``user_id`` as cropper, 3 as
    completer, 4 carry a reject reason. Queue order (createdat) is programme order.
    """
    import psycopg  # noqa: PLC0415

    rng = random.Random(seed)  # noqa: S311 - test data
    codes, weights = zip(*statuses, strict=True)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    total = 0
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY smartcrop_programimage ({', '.join(_ITEM_COLUMNS)})"  # noqa: S608
                " FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(_ITEM_TYPES)
            for program in range(programmes):
                status = rng.choices(codes, weights)[0]
                pid = f"SH{provider}{program:08d}"  # unique across providers
                when = start + dt.timedelta(milliseconds=program)
                for image in range(images_per_programme):
                    width, height = _SIZES[rng.randrange(len(_SIZES))]
                    copy.write_row(
                        (
                            pid,
                            provider,
                            _TITLES[program % len(_TITLES)],
                            f"{image_base}/{provider}/{program:08d}/{image:03d}.jpg",
                            1 + image % 6,
                            "Poster",
                            1,
                            "en",
                            width,
                            height,
                            "Provider Supplied",
                            "",
                            status,
                            0,
                            7 if status == 4 else None,
                            user_id if status >= 2 else None,
                            when if status >= 2 else None,
                            user_id if status == 3 else None,
                            when if status == 3 else None,
                            when,
                        )
                    )
                    total += 1
        conn.execute("ANALYZE smartcrop_programimage")
    return total


def seed_renditions(url: str, user_id: int | None) -> int:
    """One rendition per aspect ratio for every completed (3) work item, in SQL."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        made = conn.execute(
            """
            INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
                aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey,
                imageurl, filesize, createdby)
            SELECT p.id, p.link_object_id, ar.id, 0, 0,
                   1080 * ar.ratiowidth / ar.ratioheight, 1080,
                   format('%%s/%%s/%%s/%%s.jpg', p.providername, p.link_object_id,
                          p.id, ar.title),
                   format('http://127.0.0.1:9/renditions/%%s/%%s/%%s/%%s.jpg',
                          p.providername, p.link_object_id, p.id, ar.title),
                   20000, %(user)s
            FROM smartcrop_programimage p
            CROSS JOIN smartcrop_aspectratio_lookup ar
            WHERE p.status = 3
            """,
            {"user": user_id},
        ).rowcount
        conn.execute("ANALYZE smartcrop_aspectratioimages")
    return made


# ---------------------------------------------------------------------------------
# Serving the API (uvicorn, as `smartcrop api` runs it) and loading it on loopback
# ---------------------------------------------------------------------------------


class Server:
    """A server command run as a child in its own process group, answering on
    127.0.0.1:``port``; stopped with its workers when closed."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        port: int,
        ready_path: str,
        log_path: Path,
        timeout: float = 90,
    ) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed commands
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(self.base_url + ready_path, timeout)
        except TimeoutError:
            self.close()
            raise TimeoutError(
                f"{command[:4]} did not answer: "
                + log_path.read_text(errors="replace")[-3000:]
            ) from None

    def close(self) -> None:
        stop_process(self.proc, timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 15)  # uvicorn's workers share its group
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def api_server(
    db_url: str,
    config: Path,
    workers: int,
    log_path: Path,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """``smartcrop api --workers N`` on loopback (what the README runs); ``extra_env``
    is added to its environment (``bench.claims_gc``'s knob and probe)."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE__URL": db_url,
        "SMARTCROP_CONFIG": str(config),
        # Every worker must sign with the same key; a fixed throw-away one here.
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "smartcrop_cli", "api", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    return Server(command, env, port, "/health", log_path)


class RunQueue:
    """The machine's runnable threads (``procs_running`` in /proc/stat), sampled
    every 50 ms while the block runs: how much wanted the 2 cores at once, this
    benchmark's own processes included. Other engineers' test suites share these
    machines; a step that ran beside them shows here. ``summary()`` after the block:
    mean and max, or None where there is no /proc/stat.

        with RunQueue() as queue:
            ...
        queue.summary()
    """

    def __init__(self, interval: float = 0.05) -> None:
        import threading  # noqa: PLC0415

        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                with open("/proc/stat") as stat:
                    for line in stat:
                        if line.startswith("procs_running"):
                            self.samples.append(int(line.split()[1]))
                            break
            except (OSError, ValueError):
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> RunQueue:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float] | None:
        if not self.samples:
            return None
        mean = sum(self.samples) / len(self.samples)
        return {"mean": round(mean, 1), "max": max(self.samples)}


def freeze_load_client() -> None:
    """Move this process's heap into the permanent generation (``gc.freeze``), as
    the API does at start-up (``api/app.py``), just before a load client starts.

    Why: an open-loop load client's clock runs while it is paused, so each of its
    own full collections adds itself to every claim in flight and is charged to the
    server's p99. Its heap is the API's kind (SQLAlchemy, the project, httpx: about
    114,000 objects, about 40 ms of CPU to walk); with the API's pauses gone, the
    client's would decide steps instead. It applies to both sides of a run (HTTP and
    SQL) and both arms of ``claims_gc``, so it favours none of them.
    """
    import gc  # noqa: PLC0415

    gc.collect()
    gc.freeze()


def login(base_url: str, email: str, password: str = BENCH_PASSWORD) -> str:
    """POST /user/Login on loopback; the bearer token."""
    import httpx  # noqa: PLC0415

    response = httpx.post(
        base_url + "/user/Login",
        json={"EmailID": email, "Password": password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["Data"]["Token"])


@dataclass
class LoadResult:
    latencies: list[float]
    errors: int
    seconds: float
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load_loop(
    url: str,
    *,
    clients: int,
    max_requests: int,
    max_seconds: float,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """GET ``url`` (loopback only) from ``clients`` threads, each with its own
    keep-alive connection, until ``max_requests`` in all or ``max_seconds`` have
    passed, whichever is first. Latency per request, errors, wall time."""
    import threading  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"load only ever goes to loopback, not {url}")
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal issued
        mine: list[float] = []
        with httpx.Client(headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if issued >= max_requests:
                        break
                    issued += 1
                start = time.perf_counter()
                try:
                    response = client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError as exc:
                    ok, response = False, None
                    errors.append(type(exc).__name__)
                if ok:
                    mine.append(time.perf_counter() - start)
                elif response is not None:
                    errors.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return LoadResult(latencies, len(errors), elapsed, errors[:5])


# ---------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------


@dataclass
class Stats:
    """Measured values of one thing over its runs."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def min(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def max(self) -> float:
        return max(self.values) if self.values else float("nan")

    def as_dict(self, digits: int = 4) -> dict[str, Any]:
        return {
            "median": _round(self.median, digits),
            "min": _round(self.min, digits),
            "max": _round(self.max, digits),
            "values": [_round(v, digits) for v in self.values],
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or value != value:  # NaN
        return None
    return round(value, digits)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank), or NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextlib.contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """``with timer() as elapsed: ...; elapsed()`` in seconds (perf_counter)."""
    start = time.perf_counter()
    end: list[float] = []

    def elapsed() -> float:
        return (end[0] if end else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end.append(time.perf_counter())


@dataclass
class ChildResult:
    """What a child run reported, its peak RSS and its wall time from the parent.

    The peak RSS is the child's own high-water mark (``VmHWM`` of its address space,
    read by the child as it ends): ``ru_maxrss`` from ``wait4`` would also count the
    parent's pages, which the child shares between fork and exec."""

    result: dict[str, Any]
    peak_rss_mb: float
    wall_seconds: float


class ChildFailed(RuntimeError):
    pass


class ChildTimedOut(RuntimeError):
    """The child was killed at its deadline; what it had used until then."""

    def __init__(self, message: str, wall_seconds: float, peak_rss_mb: float) -> None:
        super().__init__(message)
        self.wall_seconds = wall_seconds
        self.peak_rss_mb = peak_rss_mb


def run_child(
    module: str,
    task: str,
    params: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> ChildResult:
    """Run ``python -m MODULE child TASK`` and return its report and peak RSS.

    The child times only its work (imports and set-up are excluded) and writes a
    JSON report; its peak resident set size is the kernel's figure for that one
    process, read with ``os.wait4`` (so other children never mix in).
    """
    with tempfile.TemporaryDirectory(prefix="smartcrop-bench-child-") as folder:
        out = Path(folder) / "result.json"
        err_path = Path(folder) / "stderr.txt"
        args_path = Path(folder) / "params.json"
        args_path.write_text(json.dumps(params))
        command = [
            sys.executable,
            "-m",
            module,
            "child",
            task,
            str(args_path),
            str(out),
        ]
        start = time.perf_counter()
        with err_path.open("wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                command,
                cwd=REPO_ROOT,
                env={**os.environ, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            deadline = start + timeout
            timed_out = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    proc.kill()
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if timed_out:
            raise ChildTimedOut(
                f"{module} child {task} did not finish within {timeout:.0f} s",
                wall,
                usage.ru_maxrss / 1024,
            )
        if proc.returncode != 0 or not out.exists():
            tail = err_path.read_text(errors="replace")[-4000:]
            raise ChildFailed(
                f"{module} child {task} exited {proc.returncode}:\n{tail}"
            )
        result = json.loads(out.read_text())
        peak = result.pop("_peak_rss_kib", None) or usage.ru_maxrss  # KiB on Linux
        return ChildResult(result=result, peak_rss_mb=peak / 1024, wall_seconds=wall)


def child_main(
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]], argv: Sequence[str]
) -> int:
    """The child side of ``run_child``: ``child TASK PARAMS_JSON OUT_JSON``."""
    task, params_path, out_path = argv
    params = json.loads(Path(params_path).read_text())
    try:
        result = tasks[task](params)
    except Exception:
        traceback.print_exc()
        return 1
    Path(out_path).write_text(json.dumps({**result, "_peak_rss_kib": _own_peak_kib()}))
    return 0


def script_main(
    run: Callable[[list[str]], Any],
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
    argv: Sequence[str] | None = None,
) -> int:
    """A benchmark script's ``main``: ``child TASK ...`` runs one measured task in
    this process (``run_child`` starts it so), anything else runs the benchmark."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["child"]:
        return child_main(tasks, args[1:])
    run(args)
    return 0


def _own_peak_kib() -> int | None:
    """This process's peak resident set size since exec (Linux ``VmHWM``), KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# ---------------------------------------------------------------------------------
# Profiling (pyinstrument, optional)
# ---------------------------------------------------------------------------------


def profiler_available() -> bool:
    try:
        import pyinstrument  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def maybe_profile(out: Path | None) -> Iterator[None]:
    """Profile the block with pyinstrument into ``out`` (a text report) and
    ``out.with_suffix('.json')`` (the hottest frames), when ``out`` is given."""
    if out is None or not profiler_available():
        yield
        return
    from pyinstrument import Profiler  # noqa: PLC0415

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        session = profiler.last_session
        out.with_suffix(".json").write_text(json.dumps(hot_frames(session), indent=1))


def hot_frames(session: Any, top: int = 15) -> list[dict[str, Any]]:
    """Where the time went: functions by self time (seconds), hottest first."""
    root = session.root_frame() if session is not None else None
    totals: dict[str, float] = {}
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        self_time = frame.total_self_time
        if self_time <= 0:
            continue
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        totals[where] = totals.get(where, 0.0) + self_time
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"frame": name, "self_seconds": round(sec, 3)} for name, sec in ranked]


# ---------------------------------------------------------------------------------
# Ports and waiting for servers
# ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    """Wait until ``url`` (loopback) answers anything below 500."""
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Stop one child we started (SIGTERM, then SIGKILL), by its own handle."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


# ---------------------------------------------------------------------------------
# Machine and results
# ---------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(postgres_version: str | None) -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{text} {unit}".strip()
    return f"{value} {unit}".strip()


@dataclass
class Target:
    """One target of a benchmark: ``value`` compared with ``limit``."""

    name: str
    value: float | None
    limit: float
    kind: str  # "max": value <= limit; "min": value >= limit
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None or self.value != self.value:
            return None
        if self.kind == "max":
            return self.value <= self.limit
        return self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        sign = "<=" if self.kind == "max" else ">="
        return {
            "name": self.name,
            "value": _round(self.value),
            "limit": f"{sign} {self.limit:g}{(' ' + self.unit) if self.unit else ''}",
            "met": self.met,
        }


def all_met(targets: Sequence[Target]) -> bool | None:
    verdicts = [t.met for t in targets]
    if any(v is None for v in verdicts):
        return None
    return all(verdicts)


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return [*lines, ""]


def write_result(
    results_dir: Path,
    name: str,
    payload: dict[str, Any],
    table: Sequence[Sequence[str]],
    extra_tables: dict[str, Sequence[Sequence[str]]] | None = None,
) -> dict[str, Any]:
    """Write ``NAME.json`` (payload, with ``benchmark`` first) and ``NAME.md`` (the
    metric, ``table`` -- its first row is the header -- the targets, any extra
    tables, the machine and the note). Returns the payload as written."""
    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, **payload}
    payload.setdefault(
        "generated_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    json_path = results_dir / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    lines = [f"# Benchmark: {name}", "", str(payload.get("metric", "")), ""]
    if table:
        lines += _md_table(table)
    targets = payload.get("targets") or []
    if targets:
        lines += _md_table(
            [
                ("target", "value", "limit", "met"),
                *(
                    (t["name"], fmt(t["value"]), t["limit"], fmt(t["met"]))
                    for t in targets
                ),
            ]
        )
    for title, rows in (extra_tables or {}).items():
        if rows:
            lines += [f"{title}:", "", *_md_table(rows)]
    machine = payload.get("machine") or {}
    lines.append(
        f"Runs: {payload.get('runs')}; machine: {machine.get('cpu_count')} x "
        f"{machine.get('cpu_model')}, Python {machine.get('python')}, PostgreSQL "
        f"{machine.get('postgres')}; load average at start "
        f"{machine.get('load_average_at_start')}; {payload.get('generated_at')}."
    )
    if payload.get("note"):
        lines += ["", "Note: " + str(payload["note"])]
    (results_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return payload


def missing_modules(*modules: str) -> list[str]:
    """The modules of the project that do not exist (yet)."""
    import importlib.util  # noqa: PLC0415

    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(module)
    return missing


def not_yet_measurable(
    results_dir: Path, name: str, metric: str, target: str, missing: list[str]
) -> dict[str, Any]:
    """The result of a benchmark whose code under test does not exist yet."""
    payload = {
        "metric": metric,
        "project": None,
        "baseline": None,
        "ratio": None,
        "target": target,
        "targets": [],
        "met": None,
        "runs": 0,
        "machine": machine_info(None),
        "note": "not yet measurable: " + ", ".join(missing) + " not found",
    }
    payload = write_result(results_dir, name, payload, [])
    print(summary_line(payload))
    return payload


def summary_line(payload: dict[str, Any]) -> str:
    """One line for the console: the headline ratio and whether targets are met."""
    ratio = payload.get("ratio")
    return (
        f"{payload['benchmark']}: project {payload.get('project_headline', '?')}, "
        f"baseline {payload.get('baseline_headline', '?')}, ratio "
        f"{fmt(ratio)}x, met={payload.get('met')}"
    )


if __name__ == "__main__":
    # The child side of write_manifest_in_child: ``child write_manifest ...``.
    sys.exit(child_main({"write_manifest": _task_write_manifest}, sys.argv[2:]))
