"""What the team reads: the dashboard, the lookup tables, the cropped-image report and
its XLSX, the team metrics, and the counts the moves keep for them.

The public functions are named here; callers outside the package use these names.
"""

from smartcrop.reporting.counts import Drift, Recounted, drift, recount
from smartcrop.reporting.cropped_report import (
    REPORT_FIELDS,
    REPORT_HEADER,
    REPORT_SHEET,
    ReportFilters,
    cropped_image_report,
    cropped_image_report_xlsx,
    explain_report_page,
    iter_cropped_image_report,
    report_page_query,
)
from smartcrop.reporting.dashboard import (
    PROVIDER_FIELDS,
    TOTAL_FIELDS,
    provider_list,
    totals,
)
from smartcrop.reporting.lookup_tables import LOOKUPS, lookup_rows
from smartcrop.reporting.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Paging
from smartcrop.reporting.team_stats import (
    TEAM_STATS_HEADER,
    TeamStatsFilters,
    iter_team_stats,
    team_stats,
    team_stats_xlsx,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "LOOKUPS",
    "MAX_PAGE_SIZE",
    "PROVIDER_FIELDS",
    "REPORT_FIELDS",
    "REPORT_HEADER",
    "REPORT_SHEET",
    "TEAM_STATS_HEADER",
    "TOTAL_FIELDS",
    "Drift",
    "Paging",
    "Recounted",
    "ReportFilters",
    "TeamStatsFilters",
    "cropped_image_report",
    "cropped_image_report_xlsx",
    "drift",
    "explain_report_page",
    "iter_cropped_image_report",
    "iter_team_stats",
    "lookup_rows",
    "provider_list",
    "recount",
    "report_page_query",
    "team_stats",
    "team_stats_xlsx",
    "totals",
]
