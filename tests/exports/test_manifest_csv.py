"""The manifest's bytes on awkward data: PostgreSQL writes the CSV (COPY ... FORMAT
CSV), and the file must stay exactly what csv.writer (dialect "excel") made of the same
rows before: same quoting, CRLF row ends, empty strings and NULLs alike, UTF-8, the CDN
rewrite of ``smartcrop.renditions.cdn.rewrite_url`` and CompletedAt in UTC.

The reference is that former path, rebuilt here in Python from the raw rows: a field
formatted differently by the SQL shows up as a byte difference.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from smartcrop.db import get_engine, libpq_url
from smartcrop.exports import manifest, manifest_csv, neutralise
from smartcrop.renditions.cdn import rewrite_url
from smartcrop.settings import CdnConfig
from tests.support.export_setup import (
    CDN,
    ORIGIN,
    add_image,
    add_user,
    base_config,
    execute,
    query,
    settings_from,
    utc,
)

NOW = utc(2026, 11, 26, 2, 0, 0)
NAME = "SmartCrop_Manifest_20261126_020000.csv"

# The rows as the former implementation read them, in the manifest's order.
_RAW_ROWS = """
SELECT p.link_object_id::text, p.providername::text, p.programtitle::text,
       p.id::bigint, coalesce(t.title, p.imagetype)::text,
       coalesce(l.title, p.language)::text, ar.title::text,
       a.cropx::integer, a.cropy::integer, a.cropwidth::integer,
       a.cropheight::integer, a.imageurl::text, p.imageurl::text,
       u.username::text, p.completedat::timestamptz
FROM smartcrop_programimage p
JOIN smartcrop_aspectratioimages a ON a.programimageid = p.id
JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
LEFT JOIN smartcrop_user u ON u.id = p.completedby
WHERE p.outputfilename = %s
ORDER BY p.link_object_id COLLATE "C", p.id, ar.title COLLATE "C"
"""


# ProgramId, ProviderName, ProgramTitle, ImageType, Language, CompletedBy: text
# people wrote, where a formula is neutralised with a leading quote.
NEUTRALISED = (0, 1, 2, 4, 5, 13)


def _neutral(value: object) -> object:
    if isinstance(value, str) and value.startswith(neutralise.TRIGGERS):
        return "'" + value
    return value


def csv_writer_bytes(db_url: str, file: str, cdn: CdnConfig) -> bytes:
    """The manifest as csv.writer wrote it from the rows stamped with ``file``, with
    formula text neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect="excel")
    writer.writerow(manifest_csv.COLUMNS)
    for row in query(db_url, _RAW_ROWS, (file,)):
        values = list(row)
        for n in NEUTRALISED:
            values[n] = _neutral(values[n])
        values[11] = rewrite_url(values[11], cdn)
        values[12] = rewrite_url(values[12], cdn)
        when = values[14]
        values[14] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""
        writer.writerow(values)
    return out.getvalue().encode("utf-8")


AWKWARD = (
    'comma, and "quotes"',
    'a lone " quote',
    '""',
    "line\nfeed",
    "carriage\rreturn",
    "crlf\r\ninside",
    "\n",
    "\r",
    " leading and trailing ",
    "tab\there",
    "Café 日本 😀",
    '=HYPERLINK("http://evil.example.com","x")',
    "+cmd",
    "-1+1",
    "@SUM(1)",
    "\\.",
    "\\N",
    "NULL",
    "back\\slash",
    "'single'",
    "100%",
)


def _export(db_url: str, tmp_path: Path) -> bytes:
    settings = settings_from(base_config(tmp_path, db_url))
    result = manifest.export_manifest(settings, get_engine(db_url), now=NOW)
    assert result.status == "success" and result.path is not None
    return result.path.read_bytes()


def test_awkward_text_is_written_as_csv_writer_wrote_it(
    db_url: str, tmp_path: Path
) -> None:
    # Not UTC, with a half-hour offset: CompletedAt must still come out in UTC.
    execute(
        db_url,
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I SET timezone = %%L',"
        " current_database(), 'America/St_Johns'); END $$",
    )
    users = [add_user(db_url, name) for name in ('Ann "Q", Jr.', "Zoë\nNewline")]
    for n, text in enumerate(AWKWARD):
        add_image(
            db_url,
            program_id=f"SH{n:04d}{text}"[:64],
            provider=text[:64] or "P",
            title=text,
            image_url=f"{ORIGIN}/sources/{n}/{text}",
            image_type=text,
            image_type_id=None,
            language=text,
            language_id=None,
            completed_by=users[n % 2],
            completed_at=datetime(2026, 3, 29, 1, 30, 59, 999999, tzinfo=UTC),
            ratios=("16x9", "1x1"),
        )
    # Empty strings and NULLs: csv.writer wrote both as an empty field, COPY would
    # quote the empty string ("").
    empty = add_image(
        db_url,
        program_id="SH9998",
        provider="",
        title="",
        image_url="",
        image_type="",
        image_type_id=None,
        language="",
        language_id=None,
        completed_at=utc(2026, 1, 1, 0, 0, 0),
    )
    nulls = add_image(
        db_url,
        program_id="SH9999",
        title=None,
        image_type=None,
        image_type_id=None,
        language=None,
        language_id=None,
        completed_at=None,
    )

    written = _export(db_url, tmp_path)

    cdn = CdnConfig(origin_base_url=ORIGIN, rewrite_base_url=CDN)
    assert written == csv_writer_bytes(db_url, NAME, cdn)
    # The same, spelt out for the cases that matter most.
    assert written.startswith(b"ProgramId,ProviderName,ProgramTitle,ImageId,")
    assert b'"crlf\r\ninside"' in written  # data keeps its own line breaks
    assert b'"line\nfeed"' in written and b'"carriage\rreturn"' in written
    assert b'"comma, and ""quotes"""' in written
    assert b", leading and trailing ," in written  # spaces: not quoted
    assert "Café 日本 😀".encode() in written and not written.startswith(
        b"\xef\xbb\xbf"
    )
    # Formula text neutralised with a leading quote, in every text column.
    assert b',"\'=HYPERLINK(""http://evil.example.com"",""x"")",' in written
    assert b",'+cmd," in written and b",'-1+1," in written and b",'@SUM(1)," in written
    assert b",=" not in written and b",+cmd" not in written
    assert f"\r\nSH9998,,,{empty},,,16x9,".encode() in written
    assert f"\r\nSH9999,NBCU,,{nulls},,,16x9,".encode() in written
    assert written.endswith(b",\r\n")  # the NULL CompletedAt: an empty last field
    assert b",2026-03-29T01:30:59Z\r\n" in written  # UTC, seconds truncated
    assert b",https://cdn.example.com/sources/9/tab\there," in written


@pytest.mark.parametrize(
    ("origin", "rewrite"),
    [
        ("https://origin.example.com", "https://cdn.example.com"),
        ("https://origin.example.com/", "https://cdn.example.com"),
        ("https://origin.example.com", "https://cdn.example.com/"),
        ("https://origin.example.com/", "https://cdn.example.com/"),
        ("https://origin.example.com/", ""),
        ("https://origin.example.com", ""),
        ("", "https://cdn.example.com"),
        ("https://ørigin.example.com/é", "https://cdn.example.com/ü"),
        ("https://o.example.com/it's,\"%s\\", "https://c'd,\"%(x)s\\/"),
    ],
)
def test_the_cdn_rewrite_in_sql_is_rewrite_url(
    db_url: str, origin: str, rewrite: str
) -> None:
    cdn = CdnConfig(origin_base_url=origin, rewrite_base_url=rewrite)
    urls = [None, "", "/x", "https://other.example.com/x"]
    for base in ("https://origin.example.com", "https://ørigin.example.com/é", origin):
        for tail in ("", "/", "//", "/a/b.png", "?q=1", "#top", "x", ".evil.net/x"):
            urls += [base + tail, base[:-1] + tail]
    expression = manifest_csv._CDN_REWRITE.format(url="u")
    # Bound client-side, as COPY (which takes no server-side parameters) binds it.
    with (
        psycopg.connect(libpq_url(db_url)) as conn,
        psycopg.ClientCursor(conn) as cursor,
    ):
        cursor.execute(
            f"SELECT u, {expression} FROM unnest(%(urls)s::text[])"  # noqa: S608
            " WITH ORDINALITY AS given(u, n) ORDER BY n",
            {**manifest_csv._cdn_params(cdn), "urls": urls},
        )
        rewritten = cursor.fetchall()
    assert rewritten == [(url, rewrite_url(url, cdn)) for url in urls]


def _pg_style_csv(rows: list[list[str]]) -> bytes:
    """CSV as COPY writes it: a field quoted when it holds a delimiter, quote, CR or
    LF (quotes doubled), rows ended by LF."""

    def field(value: str) -> str:
        if any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(",".join(map(field, row)) + "\n" for row in rows).encode()


def _crlf_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, dialect="excel").writerows(rows)
    return out.getvalue().encode()


def _convert(chunks: list[bytes]) -> bytes:
    crlf = manifest_csv.CrlfRowEnds()
    return b"".join(crlf(chunk) for chunk in chunks)


def test_row_ends_become_crlf_wherever_the_chunks_split() -> None:
    rows = [
        ["a", 'say ""hi""', "x\ny", "z"],
        ['"', "\n", "\r\n", '""'],
        ["é", "日本", 'end"', "line\n"],
        ["plain", "row", "only", "here"],
    ]
    source, expected = _pg_style_csv(rows), _crlf_csv(rows)
    assert _convert([source]) == expected
    # Every split in two (inside a doubled quote, between CR and LF, inside a
    # multi-byte character), and byte by byte.
    for cut in range(len(source) + 1):
        assert _convert([source[:cut], source[cut:]]) == expected, cut
    assert _convert([source[i : i + 1] for i in range(len(source))]) == expected


def test_row_ends_become_crlf_on_random_text_and_chunks() -> None:
    rnd = random.Random(20261126)  # noqa: S311 - test data
    atoms = ["a", ",", '"', '""', "\n", "\r", "\r\n", " ", "é", "\\", "="]
    for _ in range(200):
        rows = [
            ["".join(rnd.choices(atoms, k=rnd.randint(1, 6))) for _ in range(4)]
            for _ in range(rnd.randint(1, 5))
        ]
        source, expected = _pg_style_csv(rows), _crlf_csv(rows)
        chunks, at = [], 0
        while at < len(source):
            step = rnd.randint(1, 7)
            chunks.append(source[at : at + step])
            at += step
        assert _convert(chunks) == expected


def test_with_nothing_to_prepare_prepare_changes_nothing(db_url: str) -> None:
    olive = add_user(db_url, "Olive Operator")
    waiting = add_image(db_url, program_id="SH1", status=2, cropped_by=olive)
    add_image(db_url, program_id="SH2", completed_at=NOW)

    # QA enabled and every lookup id known: nothing for step 1 to do.
    prepared = manifest.prepare(get_engine(db_url))

    assert prepared == manifest.Prepared(0, {"image_types": 0, "languages": 0})
    assert query(
        db_url, "SELECT status FROM smartcrop_programimage WHERE id = %s", (waiting,)
    ) == [(2,)]


def test_a_missing_lookup_id_alone_still_gets_resolved(db_url: str) -> None:
    image = add_image(
        db_url,
        program_id="SH1",
        image_type="key art",
        image_type_id=None,
        completed_at=NOW,
    )

    prepared = manifest.prepare(get_engine(db_url))

    assert prepared.resolved == {"image_types": 1, "languages": 0}
    assert query(
        db_url,
        "SELECT imagetypeid FROM smartcrop_programimage WHERE id = %s",
        (image,),
    ) == [(1,)]
