"""The XLSX download of the most recent million rows: its time, size, and the API's
peak memory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.harness.database import BenchDatabase


def _worker_peak_rss_mb(server: Any) -> float:
    """The highest peak resident set (VmHWM) among the API's processes, in MB."""
    import psutil  # noqa: PLC0415 - comes with the embedded-server package

    root = psutil.Process(server.proc.pid)
    peaks = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def big_download(server: Any, url: str, token: str, rows_wanted: int) -> dict:
    """The XLSX download of the most recent days that hold ``rows_wanted`` rows
    (all rows when there are fewer): its time, size, and the API's peak memory."""
    import httpx  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    with psycopg.connect(BenchDatabase.libpq(url)) as conn:
        row = conn.execute(
            """
            SELECT day, upto FROM (
              SELECT day, sum(sum(renditions)) OVER (ORDER BY day DESC) AS upto
              FROM smartcrop_report_days GROUP BY day
            ) d WHERE upto >= %(n)s ORDER BY day DESC LIMIT 1
            """,
            {"n": rows_wanted},
        ).fetchone()
        if row is None:  # fewer rows than wanted: all of them
            row = conn.execute(
                "SELECT min(day), coalesce(sum(renditions), 0)"
                " FROM smartcrop_report_days"
            ).fetchone()
    first_day, rows = row
    before = _worker_peak_rss_mb(server)
    start = time.perf_counter()
    size = 0
    first_byte = first_mib = None
    with httpx.stream(
        "GET",
        server.base_url + "/report/CroppedImageReportDownLoad",
        params={"fromDate": str(first_day)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=1800,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            # The workbook's small parts lead; its first MiB holds rows of the sheet.
            if first_byte is None:
                first_byte = time.perf_counter() - start
            if first_mib is None and size >= 1 << 20:
                first_mib = time.perf_counter() - start
    seconds = time.perf_counter() - start
    return {
        "rows": int(rows),
        "from_date": str(first_day),
        "seconds": seconds,
        "first_byte_seconds": first_byte,
        "first_mib_seconds": seconds if first_mib is None else first_mib,
        "bytes": size,
        "api_peak_rss_mb_before": round(before, 1),
        "api_peak_rss_mb": round(_worker_peak_rss_mb(server), 1),
    }
