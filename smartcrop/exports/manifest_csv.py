"""The nightly manifest's bytes: PostgreSQL writes the CSV and we stream it to a file.

``write_rows`` runs inside the export transaction (``smartcrop.exports.manifest``) and
reads the images it chose into the temporary table ``smartcrop_manifest_batch``. The
SELECT formats every field, rewrites URLs for the CDN and neutralises formula text,
so ``COPY ... TO STDOUT`` hands over finished CSV and no row is decoded into Python.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg.abc import Buffer

from smartcrop.exports import neutralise
from smartcrop.settings import CdnConfig

# The header; _COPY_ROWS names its columns the same (and verify reads them back).
COLUMNS = (
    "ProgramId",
    "ProviderName",
    "ProgramTitle",
    "ImageId",
    "ImageType",
    "Language",
    "AspectRatio",
    "CropX",
    "CropY",
    "CropWidth",
    "CropHeight",
    "RenditionUrl",
    "SourceImageUrl",
    "CompletedBy",
    "CompletedAt",
)
# The CDN rewrite of smartcrop.renditions.cdn.rewrite_url, done by the server so that
# no row is decoded into Python. ``{url}`` is a column (fixed text, chosen below); the
# configuration comes in as parameters (see _cdn_params). A URL is rewritten only when
# it starts with the origin followed by the end, '/', '?' or '#' (or the origin ends
# with '/'), so ``https://a.example`` never rewrites ``https://a.example.evil.net/x``.
# left()/length()/substr() count characters, as Python's slicing does, and "=" in
# the "C" collation compares bytes, as str.startswith compares characters.
_CDN_REWRITE = """CASE
    WHEN %(cdn_on)s
     AND left({url}, %(origin_len)s) = %(origin)s COLLATE "C"
     AND (%(origin_slash)s OR length({url}) = %(origin_len)s
          OR substr({url}, %(origin_len)s + 1, 1) IN ('/', '?', '#'))
    THEN %(rewrite)s || %(seam)s || substr(
        {url},
        %(origin_len)s + 1
        + CASE WHEN %(drop_slash)s AND substr({url}, %(origin_len)s + 1, 1) = '/'
               THEN 1 ELSE 0 END)
    ELSE {url}
END"""
_RENDITION_URL = _CDN_REWRITE.format(url="a.imageurl::text")
_SOURCE_URL = _CDN_REWRITE.format(url="p.imageurl::text")

# The manifest as PostgreSQL writes it: every field is formatted here and the bytes
# go to the file as they come (write_rows only turns the row ends into CRLF).
#
# They must be the bytes csv.writer (dialect "excel") wrote from these columns before.
# Both quote a field exactly when it holds ',', '"', CR or LF, and double its quotes;
# they differ on one point: COPY writes an empty string as "" to tell it from NULL (an
# empty field), where csv.writer wrote both as an empty field. So every text column
# goes through nullif(..., ''). Numbers print as Python's str(int) did. CompletedAt is
# what astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") gave: UTC, seconds truncated,
# and FM because glibc's %Y does not zero-pad a year below 1000. The header is COPY's,
# from the column names (none needs quoting). ENCODING: UTF-8 whatever the client
# encoding, as the file was written.
#
# Order: ProgramId, ImageId, AspectRatio, compared as the CSV shows them (byte order
# for text, numeric for ImageId), whatever the database's collation.
#
# The images are formatted and sorted on their own, once per image rather than once
# per rendition, and the ORDER BY keeps that subquery apart (not merged into the
# outer query). PostgreSQL knows its output order, so it only has to sort each
# image's few renditions (an incremental sort) and starts streaming at once, instead
# of sorting every rendition before the first row goes out.
# Text that people and providers wrote (titles, ids, names) may hold a formula for
# whoever opens the CSV in a spreadsheet: neutralised (smartcrop.exports.neutralise).
# URLs and the ratio title are ours or validated as http(s), so they are left alone.
_safe = neutralise.neutralised

_COPY_ROWS = f"""
COPY (
    SELECT {_safe("i.program_id")} AS "ProgramId",
           {_safe("i.provider_name")} AS "ProviderName",
           {_safe("i.program_title")} AS "ProgramTitle", i.id::bigint AS "ImageId",
           {_safe("i.image_type")} AS "ImageType",
           {_safe("i.language")} AS "Language",
           nullif(ar.title::text, '') AS "AspectRatio",
           a.cropx::integer AS "CropX", a.cropy::integer AS "CropY",
           a.cropwidth::integer AS "CropWidth", a.cropheight::integer AS "CropHeight",
           nullif({_RENDITION_URL}, '') AS "RenditionUrl",
           i.source_url AS "SourceImageUrl",
           {_safe("i.completed_by")} AS "CompletedBy",
           i.completed_at AS "CompletedAt"
    FROM (
        SELECT p.id, p.link_object_id,
               nullif(p.link_object_id::text, '') AS program_id,
               nullif(p.providername::text, '') AS provider_name,
               nullif(p.programtitle::text, '') AS program_title,
               nullif(coalesce(t.title, p.imagetype)::text, '') AS image_type,
               nullif(coalesce(l.title, p.language)::text, '') AS language,
               nullif({_SOURCE_URL}, '') AS source_url,
               nullif(u.username::text, '') AS completed_by,
               to_char(p.completedat::timestamptz AT TIME ZONE 'UTC',
                       'FMYYYY-MM-DD"T"HH24:MI:SS"Z"') AS completed_at
        FROM smartcrop_manifest_batch b
        JOIN smartcrop_programimage p ON p.id = b.id
        LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
        LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
        LEFT JOIN smartcrop_user u ON u.id = p.completedby
        ORDER BY p.link_object_id COLLATE "C", p.id
    ) i
    JOIN smartcrop_aspectratioimages a ON a.programimageid = i.id
    JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
    ORDER BY i.link_object_id COLLATE "C", i.id, ar.title COLLATE "C"
) TO STDOUT (FORMAT CSV, HEADER, ENCODING 'UTF8')
"""  # noqa: S608 - only the fixed SQL above is put in; every value is a parameter


def _cdn_params(cdn: CdnConfig) -> dict[str, Any]:
    """The parameters of _CDN_REWRITE: rewrite_url's decisions that depend on the
    configuration only, taken once here."""
    origin, rewrite = cdn.origin_base_url, cdn.rewrite_base_url
    return {
        "cdn_on": bool(origin),
        "origin": origin,
        "origin_len": len(origin),
        "origin_slash": origin.endswith("/"),
        "rewrite": rewrite,
        # Exactly one '/' at the seam, whichever side of it the config wrote one on.
        "drop_slash": rewrite.endswith("/"),
        "seam": (
            "/"
            if origin.endswith("/") and rewrite and not rewrite.endswith("/")
            else ""
        ),
    }


class CrlfRowEnds:
    """Turns the LF that ends each row of COPY's CSV into CRLF, chunk by chunk.

    csv.writer ended rows with CRLF; COPY TO STDOUT ends them with LF. A LF inside a
    field is data and stays as it is (csv.writer wrote it unchanged too), and COPY
    quotes every field that holds one, so a row end is a LF outside quotes. Whether a
    byte is inside quotes depends only on the parity of the '"' before it (a doubled
    quote flips the state twice), so one bit carried from chunk to chunk is enough,
    wherever the chunks split the rows or a doubled quote. In UTF-8 the bytes '"' and
    LF never occur inside a multi-byte character.
    """

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, chunk: bytes) -> bytes:
        parts = chunk.split(b'"')
        # parts[i] lies outside quotes when i has the parity the chunk started with.
        for i in range(1 if self.quoted else 0, len(parts), 2):
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        if len(parts) % 2 == 0:  # an odd number of quotes
            self.quoted = not self.quoted
        return b'"'.join(parts)


# COPY hands over one row per chunk: the rows are converted and written in blocks of
# about this many bytes, which leaves an append as the only Python work per row.
_BLOCK = 1 << 16


def write_rows(conn: psycopg.Connection, path: Path, cdn: CdnConfig) -> int:
    """Stream the batch into ``path`` (via ``<path>.part``); return the data rows.

    PostgreSQL formats the CSV (see _COPY_ROWS) and its bytes go to the file as they
    arrive, with CRLF row ends (RFC 4180): memory stays flat whatever the size of the
    batch, and no row is decoded into Python objects.
    """
    part = path.with_name(path.name + ".part")
    crlf = CrlfRowEnds()
    block: list[Buffer] = []
    size = 0
    try:
        with part.open("wb") as out, conn.cursor() as cur:
            with cur.copy(_COPY_ROWS, _cdn_params(cdn)) as copy:
                for chunk in copy:
                    block.append(chunk)
                    size += len(chunk)
                    if size >= _BLOCK:
                        out.write(crlf(b"".join(block)))
                        block.clear()
                        size = 0
                out.write(crlf(b"".join(block)))
            # COPY's command tag, read when the copy ends: the data rows it sent.
            rows = cur.rowcount
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return rows
