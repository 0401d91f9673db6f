"""Hostile containers: zip bombs, lying sizes, encryption, bad CRCs, OLE files and
DTD attacks in the XML parts."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.support.corpus.ooxml import (
    PRESS,
    SHEET_HEAD,
    good,
    image_url,
    row_xml,
    sheet_xml,
    workbook,
)


def _deflate_bomb(total: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``total`` zero bytes (a multiple of 1 MiB), made fast:
    full-flushed blocks of the same input compress to the same bytes, so one block is
    repeated. Returns (stream, crc32 of the inflated bytes)."""
    mib = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = 0
    for _ in range(total >> 20):
        crc = zlib.crc32(mib, crc)
    return block * (total >> 20) + tail, crc


Entry = tuple[str, bytes, int, int, int]  # name, deflated data, crc, size, flags


def zip_raw(entries: list[Entry]) -> bytes:
    """A zip written by hand, so that sizes, CRCs and flags say what a hostile file
    would say (zipfile refuses to write such lies)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size, flags in entries:
        offset = out.tell()
        encoded = name.encode()
        fixed = (20, flags, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fixed))
        out.write(encoded + data)
        central.append(
            struct.pack("<IH", 0x02014B50, 20)
            + struct.pack("<HHHHHIIIHH", *fixed)
            + struct.pack("<HHHII", 0, 0, 0, 0, offset)
            + encoded
        )
    start = out.tell()
    out.write(b"".join(central))
    size = out.tell() - start
    count = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0))
    return out.getvalue()


def deflate(raw: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush()


def _entries_of(book: bytes) -> list[Entry]:
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        return [
            (info.filename, deflate(raw), zlib.crc32(raw), len(raw), 0)
            for info in archive.infolist()
            for raw in [archive.read(info.filename)]
        ]


def zip_bomb(p: str, total: int = (1 << 30) + (64 << 20)) -> bytes:
    """A small workbook plus a part that honestly unpacks to more than 1 GiB."""
    entries = _entries_of(good(p))
    data, crc = _deflate_bomb(total)
    entries.append(("xl/media/image1.png", data, crc, total, 0))
    return zip_raw(entries)


def lying_bomb(p: str, total: int = 256 << 20) -> bytes:
    """The shared strings part says it holds 200 bytes and inflates to 256 MiB."""
    entries = [e for e in _entries_of(good(p)) if e[0] != "xl/sharedStrings.xml"]
    data, crc = _deflate_bomb(total)
    entries.append(("xl/sharedStrings.xml", data, crc, 200, 0))
    return zip_raw(entries)


def encrypted_entry(p: str) -> bytes:
    """The sheet part flagged as encrypted (zip's traditional PKWARE encryption)."""
    sheet = "xl/worksheets/sheet1.xml"
    return zip_raw(
        [(n, d, c, s, 1 if n == sheet else f) for n, d, c, s, f in _entries_of(good(p))]
    )


def crc_error(p: str) -> bytes:
    sheet = "xl/worksheets/sheet1.xml"
    return zip_raw(
        [
            (n, d, c ^ 0xFFFF if n == sheet else c, s, f)
            for n, d, c, s, f in _entries_of(good(p))
        ]
    )


def ole_file(stream_name: str, p: str) -> bytes:
    """A compound-file (OLE/CFB) header, as a password-protected .xlsx (stream
    EncryptedPackage) or a real .xls (stream Workbook) starts."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + struct.pack("<HH", 62, 3)
    header += struct.pack("<HHH", 0xFFFE, 9, 6) + bytes(10)
    directory = stream_name.encode("utf-16-le").ljust(64, b"\0")
    return header.ljust(512, b"\0") + directory.ljust(512, b"\0") + p.encode() * 64


def sheet_with_dtd(p: str) -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    head = SHEET_HEAD.replace("?>", "?>" + doctype, 1)
    body = row_xml(1, PRESS) + row_xml(2, [f"{p}1", None, image_url(1)]).replace(
        "</row>", '<c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    )
    return workbook(f"{head}<sheetData>{body}</sheetData></worksheet>".encode())


def shared_strings_attack(kind: str, p: str) -> bytes:
    """A title taken from the shared strings part, which carries a DTD attack:
    an external entity (XXE) or exponential entity expansion (billion laughs)."""
    if kind == "xxe":
        dtd = '<!DOCTYPE sst [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        text = "&e;"
    else:
        entities = ['<!ENTITY l0 "lol">'] + [
            f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        ]
        dtd = f"<!DOCTYPE sst [{''.join(entities)}]>"
        text = "&l9;"
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?>{dtd}'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'
    ).encode()
    body = row_xml(1, PRESS) + row_xml(2, [f"{p}1", None, image_url(1)]).replace(
        "</row>", '<c r="B2" t="s"><v>0</v></c></row>'
    )
    return workbook(sheet_xml(body), shared_strings=sst)
