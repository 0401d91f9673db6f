"""Measuring: each operation of the API timed over HTTP (p50 and p95 over samples,
after warm-up), a report page's plan, and the nightly manifest."""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness.claim_cycle import finish_body, tiny_png
from bench.harness.database import BenchDatabase
from bench.harness.timing import percentile
from bench.scale import CLAIM_SAMPLES_FACTOR, DOWNLOAD_SAMPLES, MANIFEST_IMAGES


@dataclass
class Op:
    name: str
    seconds: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    plan: str | None = None  # the report page's query plan, for a page

    def p(self, pct: float) -> float | None:
        return percentile(self.seconds, pct) if self.seconds else None

    def per_row(self) -> float | None:
        pairs = [s / r for s, r in zip(self.seconds, self.rows, strict=True) if r]
        return statistics.median(pairs) if pairs else None


def _time(op: Op, call: Callable[[], int | None], samples: int, warmup: int) -> None:
    for i in range(warmup + samples):
        start = time.perf_counter()
        rows = call()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            op.seconds.append(elapsed)
            op.rows.append(rows or 0)


def measure(  # noqa: C901 - one list of operations, each a few lines
    base: str,
    url: str,
    config: Path,
    tokens: dict[str, tuple[int, str]],
    samples: int,
    manifest_samples: int,
) -> dict[str, Op]:
    import httpx  # noqa: PLC0415

    ops: dict[str, Op] = {}
    admin_id, admin = tokens["admin"]
    op_id, operator = tokens["operator"]
    today = datetime.now(UTC).date()
    week = {"fromDate": str(today - timedelta(days=6)), "toDate": str(today)}
    with httpx.Client(base_url=base, timeout=600) as client:

        def get(path: str, token: str, **params: Any) -> dict[str, Any]:
            response = client.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            return response.json()

        def timed(name: str, call: Callable[[], int | None], n: int = samples) -> Op:
            op = ops[name] = Op(name)
            _time(op, call, n, warmup=2)
            return op

        timed("Totals", lambda: get("/dashboard/Totals", operator) and None)
        timed("ProviderList", lambda: get("/dashboard/ProviderList", operator) and None)
        filters: dict[str, dict[str, Any]] = {
            "none": {},
            "provider": {"providerName": "NBCU"},
            "user": {"userId": str(op_id)},
            "7 days": week,
            "all": {**week, "providerName": "nbcu", "userId": str(op_id)},
            # Beyond the contract: the status filter reads the renditions themselves
            # (the day summaries cannot place its pages); status 3, the most rows.
            "7 days, status": {**week, "status": "3"},
        }
        last_pages: dict[str, int] = {}
        for label, params in filters.items():

            def page1(params: dict[str, Any] = params, label: str = label) -> int:
                data = get("/report/CroppedImageReport", admin, **params)["Data"]
                last_pages[label] = max(1, int(data["TotalPages"]))
                return len(data["Items"])

            timed(f"report page 1, {label}", page1).plan = report_plan(url, params, 1)
        for label in ("none", "7 days", "7 days, status"):
            last = last_pages[label]
            for where, number in (("middle", max(1, last // 2)), ("last", last)):

                def page_n(label: str = label, number: int = number) -> int:
                    params = {**filters[label], "pageNumber": str(number)}
                    data = get("/report/CroppedImageReport", admin, **params)["Data"]
                    return len(data["Items"])

                timed(f"report {where} page, {label}", page_n).plan = report_plan(
                    url, filters[label], number
                )

        op = ops["download 7 days"] = Op("download 7 days")
        for i in range(1 + min(DOWNLOAD_SAMPLES, samples)):
            start = time.perf_counter()
            response = client.get(
                "/report/CroppedImageReportDownLoad",
                params=week,
                headers={"Authorization": f"Bearer {admin}"},
            )
            response.raise_for_status()
            elapsed = time.perf_counter() - start
            if i >= 1:  # rows counted outside the timed part
                op.seconds.append(elapsed)
                op.rows.append(_xlsx_rows(response.content))

        png = tiny_png()

        def claim() -> int:
            data = get(
                "/image/GetImageInfo", operator, providerName="NBCU", user=str(op_id)
            )["Data"]
            claimed.append(data)
            return len(data["Images"]) if data else 0

        def release() -> int:
            get("/image/UpdateUserLockStatus", operator, userId=str(op_id))
            return 0

        def save() -> int:
            data = claimed.pop()
            ids = [image["ImageId"] for image in data["Images"]]
            body = finish_body(data["ProgramId"], op_id, ids, png)
            response = client.post(
                "/image/SaveCropedImages",
                json=body,
                headers={"Authorization": f"Bearer {operator}"},
            )
            response.raise_for_status()
            return len(data["Images"])

        claimed: list[dict[str, Any]] = []
        for name in ("claim", "save", "release"):
            ops[name] = Op(name)
        # Three times the samples: a claim costs milliseconds, and the p95 of 20
        # is the second slowest, which one scheduler hiccup decides.
        for i in range(CLAIM_SAMPLES_FACTOR * samples + 2):
            for name, call in (("claim", claim), ("release", release)):
                start = time.perf_counter()
                call()
                if i >= 2:
                    ops[name].seconds.append(time.perf_counter() - start)
            claimed.clear()
            claim()
            start = time.perf_counter()
            save()
            if i >= 2:
                ops["save"].seconds.append(time.perf_counter() - start)
    ops["manifest, 1,000 new images"] = manifest(url, config, manifest_samples)
    return ops


def report_plan(url: str, params: dict[str, Any], number: int) -> str:
    """The plan of a report page's statement (the API's query parameters)."""
    from datetime import date  # noqa: PLC0415

    from sqlalchemy import create_engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop import reporting  # noqa: PLC0415

    def day(name: str) -> date | None:
        return date.fromisoformat(params[name]) if name in params else None

    filters = reporting.ReportFilters(
        from_date=day("fromDate"),
        to_date=day("toDate"),
        provider_name=params.get("providerName"),
        user_id=int(params["userId"]) if "userId" in params else None,
        status=int(params["status"]) if "status" in params else None,
    )
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return reporting.explain_report_page(
                session, filters, reporting.Paging(number, reporting.DEFAULT_PAGE_SIZE)
            )
    finally:
        engine.dispose()


def _xlsx_rows(content: bytes) -> int:
    from openpyxl import load_workbook  # noqa: PLC0415

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    if sheet is None:
        return 0
    return max(0, sum(1 for _ in sheet.iter_rows(values_only=True)) - 1)


QUEUE_FOR_EXPORT = """
WITH picked AS (
  SELECT id FROM smartcrop_programimage
  WHERE providername = 'Export' AND status = 1 AND currentstate = 0
  ORDER BY id LIMIT %(n)s
), done AS (
  UPDATE smartcrop_programimage p
  SET status = 3, croppedby = %(user)s, croppedat = now(), completedby = %(user)s,
      completedat = now(), updatedat = now()
  FROM picked WHERE p.id = picked.id
  RETURNING p.id, p.link_object_id
)
INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
    aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
    filesize, createdby)
SELECT d.id, d.link_object_id, ar.id, 0, 0, 10, 10, 'k/' || d.id, 'u/' || d.id,
       1000, %(user)s
FROM done d CROSS JOIN smartcrop_aspectratio_lookup ar
"""


UNSHIP = """
UPDATE smartcrop_programimage SET outputfilename = NULL, exportedat = NULL
WHERE providername = 'Export' AND status = 3 AND outputfilename IS NOT NULL
"""


def manifest(url: str, config: Path, samples: int) -> Op:
    """The nightly manifest, run as the schedule runs it, of 1,000 new images."""
    import psycopg  # noqa: PLC0415

    os.environ["SMARTCROP_CONFIG"] = str(config)
    from smartcrop.db import get_engine  # noqa: PLC0415
    from smartcrop.exports.manifest import export_manifest  # noqa: PLC0415
    from smartcrop.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    op = Op("manifest")
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        user = conn.execute("SELECT min(id) FROM smartcrop_user").fetchone()[0]
        conn.execute(QUEUE_FOR_EXPORT, {"n": MANIFEST_IMAGES, "user": user})
        for i in range(samples + 1):
            # The same 1,000 images each time, made new again (the database stays
            # the size it was filled to): what a night with 1,000 new images ships.
            conn.execute(UNSHIP)
            start = time.perf_counter()
            result = export_manifest(settings, get_engine(url))
            elapsed = time.perf_counter() - start
            if result.status != "success":
                raise RuntimeError(f"the manifest did not succeed: {result}")
            if i >= 1:
                op.seconds.append(elapsed)
                op.rows.append(result.images)
    return op
