"""Team metrics (``/report/TeamStats``): per user and UTC day, from the audit trail.

What each figure means (docs/workflow.md, "Team metrics"):

- ``ImagesFinished``: the user's ``finish`` moves that day (an operator's Status 2 or
  3, whichever QA routing made of it). The user is the one the work was done for:
  ``details.for_user`` when an admin acted for someone, else the audit row's user.
- ``MedianSecondsToFinish`` / ``P90SecondsToFinish``: over those finishes, the
  seconds from the image's last ``claim`` before the finish to the finish
  (``percentile_cont``, so interpolated; rounded to the millisecond); null when
  none had a claim.
- ``SentBackOrRejected``: of those finishes, how many QA's next decision on the
  image (the first ``approve``, ``send_back``, ``qa_reject`` or ``qa_skipped`` after
  the finish) sent back or rejected; ``SentBackShare`` is that over
  ``ImagesFinished`` (null when 0). Counted on the day of the finish: a finish not
  reviewed yet counts as not sent back, so a recent day's share can still grow.
- ``ImagesReviewed``: the user's QA decisions that day (``approve``, ``send_back``,
  ``qa_reject``).
- ``RenditionsSaved``: renditions whose last save was by the user that day (the
  renditions table: saving a crop is not a move, so the audit has no row for it; a
  rendition saved again later counts on its last save only).

A user appears on a day when any of these is not 0. The finishes and the reviews of
the period are read from the audit's (action, createdat) index and each finish
looks up its claim and its QA decision through the (programimageid, id) index
(migration 0008), so the cost follows the moves in the period, not the table.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput
from smartcrop.reporting import xlsx_stream

# Contract-style name of each figure, in the order of the answer and the XLSX.
TEAM_STATS_HEADER = (
    "Day",
    "UserId",
    "UserName",
    "RoleName",
    "ImagesFinished",
    "RenditionsSaved",
    "MedianSecondsToFinish",
    "P90SecondsToFinish",
    "SentBackOrRejected",
    "SentBackShare",
    "ImagesReviewed",
)
TEAM_STATS_SHEET = "TeamStats"

FINISH = "finish"
CLAIM = "claim"
# What ends an image's time in QA after a finish, and which of them count against it.
QA_OUTCOMES = ("approve", "send_back", "qa_reject", "qa_skipped")
RETURNED = ("send_back", "qa_reject")
REVIEWS = ("approve", "send_back", "qa_reject")


@dataclass(frozen=True)
class TeamStatsFilters:
    from_date: date | None = None
    to_date: date | None = None
    provider_name: str | None = None

    def __post_init__(self) -> None:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise InvalidInput("fromDate must not be after toDate")

    def params(self) -> dict[str, Any]:
        """The period as UTC instants (``to`` exclusive), the provider trimmed."""
        start = end = None
        if self.from_date is not None:
            start = datetime.combine(self.from_date, time(), tzinfo=UTC)
        if self.to_date is not None:
            end = datetime.combine(self.to_date + timedelta(days=1), time(), UTC)
        provider = (self.provider_name or "").strip() or None
        return {"start": start, "end": end, "provider": provider}


def _owner(alias: str) -> str:
    """SQL: whom an audit row's move was done for."""
    return f"coalesce(CAST({alias}.details->>'for_user' AS integer), {alias}.userid)"


def _day(column: str) -> str:
    return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"


def _period(column: str, params: dict[str, Any]) -> str:
    """Only the bounds given are written, so the planner sees no ``:x IS NULL OR``."""
    clauses = []
    if params["start"] is not None:
        clauses.append(f"{column} >= :start")
    if params["end"] is not None:
        clauses.append(f"{column} < :end")
    return "".join(f" AND {clause}" for clause in clauses)


def _of_provider(alias: str, params: dict[str, Any]) -> str:
    if params["provider"] is None:
        return ""
    return f"""
        JOIN smartcrop_programimage p ON p.id = {alias}.programimageid
         AND lower(p.providername) = lower(:provider)"""


def _to_the_ms(seconds: str) -> str:
    return f"CAST(round(CAST({seconds} AS numeric), 3) AS double precision)"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def team_stats_query(filters: TeamStatsFilters) -> tuple[str, dict[str, Any]]:
    """The statement (rows in ``TEAM_STATS_HEADER`` order) and its parameters."""
    params = filters.params()
    sql = f"""
    WITH fin AS (
        SELECT f.id, f.programimageid, f.createdat, {_owner("f")} AS userid
        FROM smartcrop_programimage_audit f {_of_provider("f", params)}
        WHERE f.action = '{FINISH}' {_period("f.createdat", params)}
    ),
    finished AS (
        SELECT fin.userid, {_day("fin.createdat")} AS day,
               extract(epoch FROM fin.createdat - t.claimed) AS seconds,
               coalesce(t.first_returned = t.first_outcome, false) AS returned
        FROM fin
        LEFT JOIN LATERAL (
            SELECT max(t.createdat) FILTER (
                       WHERE t.action = '{CLAIM}' AND t.id < fin.id) AS claimed,
                   min(t.id) FILTER (
                       WHERE t.action IN ({_quoted(QA_OUTCOMES)}) AND t.id > fin.id
                   ) AS first_outcome,
                   min(t.id) FILTER (
                       WHERE t.action IN ({_quoted(RETURNED)}) AND t.id > fin.id
                   ) AS first_returned
            FROM smartcrop_programimage_audit t
            WHERE t.programimageid = fin.programimageid
        ) t ON true
    ),
    finishes AS (
        SELECT userid, day, count(*) AS finished,
               {_to_the_ms("percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)")}
                   AS median,
               {_to_the_ms("percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)")}
                   AS p90,
               count(*) FILTER (WHERE returned) AS returned
        FROM finished GROUP BY userid, day
    ),
    reviews AS (
        SELECT {_owner("r")} AS userid, {_day("r.createdat")} AS day,
               count(*) AS reviewed
        FROM smartcrop_programimage_audit r {_of_provider("r", params)}
        WHERE r.action IN ({_quoted(REVIEWS)}) {_period("r.createdat", params)}
        GROUP BY 1, 2
    ),
    saves AS (
        SELECT a.updatedby AS userid, {_day("a.updatedat")} AS day,
               count(*) AS renditions
        FROM smartcrop_aspectratioimages a {_of_provider("a", params)}
        WHERE a.updatedby IS NOT NULL {_period("a.updatedat", params)}
        GROUP BY 1, 2
    )
    SELECT k.day, k.userid, u.username, ro.rolename,
           coalesce(f.finished, 0), coalesce(s.renditions, 0),
           f.median, f.p90, coalesce(f.returned, 0),
           CAST(f.returned AS double precision) / nullif(f.finished, 0),
           coalesce(r.reviewed, 0)
    FROM (SELECT userid, day FROM finishes
          UNION SELECT userid, day FROM reviews
          UNION SELECT userid, day FROM saves) k
    LEFT JOIN finishes f ON f.userid = k.userid AND f.day = k.day
    LEFT JOIN reviews r ON r.userid = k.userid AND r.day = k.day
    LEFT JOIN saves s ON s.userid = k.userid AND s.day = k.day
    LEFT JOIN smartcrop_user u ON u.id = k.userid
    LEFT JOIN smartcrop_role ro ON ro.id = u.roleid
    WHERE k.userid IS NOT NULL
    ORDER BY k.day, u.username, k.userid
    """  # noqa: S608 - built from this module's constants only; values are bound
    return sql, params


def _plan_for_these_values(session: Session) -> None:
    # As for the cropped-image report: a generic plan of a prepared statement would
    # not know how narrow the period is. And no parallel workers: the statement is a
    # few scans and one index lookup per finish, which workers split at a cost of
    # about a third more CPU in all (measured on a month: 0.58 s of server CPU with
    # two workers, 0.44 s without), CPU the API's other requests on the same cores
    # need; under load the query without them also ends sooner.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def iter_team_stats(
    session: Session, filters: TeamStatsFilters
) -> Generator[tuple[Any, ...], None, None]:
    """The rows, in ``TEAM_STATS_HEADER`` order (Day a ``date``, seconds floats)."""
    sql, params = team_stats_query(filters)
    _plan_for_these_values(session)
    for row in session.execute(text(sql), params):
        yield tuple(row)


def team_stats(session: Session, filters: TeamStatsFilters) -> list[dict[str, Any]]:
    """Every (day, user) row of the period as the API answers it."""
    items = []
    for row in iter_team_stats(session, filters):
        item = dict(zip(TEAM_STATS_HEADER, row, strict=True))
        item["Day"] = item["Day"].isoformat()
        items.append(item)
    return items


def team_stats_xlsx(
    sessions: Callable[[], Session], filters: TeamStatsFilters
) -> Generator[bytes, None, None]:
    """The same rows as an XLSX workbook (``Day`` a date cell), as the cropped-image
    report's download is written: the generator owns its session."""
    with sessions() as session:
        rows = iter_team_stats(session, filters)
        try:
            yield from xlsx_stream.stream_xlsx(
                TEAM_STATS_SHEET, TEAM_STATS_HEADER, rows
            )
        finally:
            rows.close()
