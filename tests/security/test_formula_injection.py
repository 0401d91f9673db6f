"""Provider text that a spreadsheet would run: ``=HYPERLINK(...)``, ``+cmd|...``,
``-1+1``, ``@SUM(...)``. It is stored verbatim (tests/reliability/test_bad_manifests)
and must be neutralised wherever it leaves as CSV or XLSX for people to open.

In CSV a cell starting with = + - @ TAB or CR is prefixed with a single quote (the
usual neutralisation: spreadsheets show the text and never run it); in XLSX the text
is written as a text cell, so it stays exactly as the provider sent it.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from smartcrop.db import get_engine
from smartcrop.exports import dumps, manifest
from smartcrop.transfer.retry import RetryPolicy
from tests.support.corpus import FORMULA_TITLES
from tests.support.export_setup import add_image, add_user, base_config, settings_from

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUICK = RetryPolicy(attempts=1)


def _seed(db_url: str) -> None:
    olive = add_user(db_url, "Olive Operator")
    quinn = add_user(db_url, "Quinn Reviewer", "qa")
    for n, title in enumerate(FORMULA_TITLES, start=1):
        add_image(
            db_url,
            program_id=f"SH{n:012d}",
            title=title,
            cropped_by=olive,
            completed_by=quinn,
            completed_at=datetime.now(UTC),
        )


def _dangerous(value: str) -> bool:
    return bool(value) and value.startswith(TRIGGERS)


def test_the_xlsx_report_holds_provider_text_as_text_not_formulas(
    client, token_for, db_url: str
) -> None:
    _seed(db_url)
    _, qa = token_for("qa")
    today = datetime.now(UTC).date().isoformat()
    response = client.get(
        "/report/CroppedImageReportDownLoad",
        params={"fromDate": today, "toDate": today},
        headers=qa,
    )
    assert response.status_code == 200, response.text[:300]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    title = header.index("ProgramTitle")
    cells = [row[title] for row in sheet.iter_rows(min_row=2)]
    assert len(cells) >= len(FORMULA_TITLES) * 5
    # Text cells, never formulas (openpyxl used to store "=..." as a formula), and
    # the provider's text kept as it was: a text cell is never run.
    assert [c.value for c in cells if c.data_type == "f"] == []
    assert set(FORMULA_TITLES) <= {c.value for c in cells}


def test_the_manifest_csv_neutralises_formula_text(db_url: str, tmp_path: Path):
    _seed(db_url)
    settings = settings_from(base_config(tmp_path, db_url))
    result = manifest.export_manifest(settings, get_engine(db_url), retry=QUICK)
    assert result.status == "success"
    with result.path.open(newline="", encoding="utf-8") as handle:
        titles = [row["ProgramTitle"] for row in csv.DictReader(handle)]
    assert titles and not [t for t in titles if _dangerous(t)]
    assert {"'" + title for title in FORMULA_TITLES} <= set(titles)


def test_the_dump_csvs_neutralise_formula_text(db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    settings = settings_from(base_config(tmp_path, db_url))
    result = dumps.dump_snapshots(settings, get_engine(db_url), days=1, retry=QUICK)
    assert result.status == "success"
    folder = settings.smartcrop_dumpdata.local_path
    values = [
        value
        for path in folder.iterdir()
        for row in csv.reader(path.open(newline="", encoding="utf-8"))
        for value in row
    ]
    assert any("HYPERLINK" in v for v in values)  # the titles are in there
    assert not [v for v in values if "HYPERLINK" in v and _dangerous(v)]
    # Neutralised, not lost: the title is there behind a single quote.
    assert "'" + FORMULA_TITLES[0] in values
