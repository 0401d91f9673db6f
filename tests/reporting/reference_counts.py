"""Reference answers for the counts kept with every write (migration 0004): the full
counts of the definitions 0004 replaced, and random writes of every kind the
application makes."""

from __future__ import annotations

import importlib
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop import reporting
from smartcrop.reporting import counts, cropped_report

M0004 = importlib.import_module(
    "smartcrop.migrations.versions.0004_counts_kept_with_the_moves"
)

# The definitions 0004 replaced, as 0002 wrote them: the reference answers.
OLD_TOTAL, OLD_PROVIDERS = (
    sql.split(" AS\n", 1)[1].rstrip().rstrip(";")
    for sql in M0004.OLD_VIEWS.strip().split("\n\n")
)

PROVIDERS = ("NBCU", "Disney", "nbcu", "TMDB")  # two spellings of one provider

TODAY = date(2026, 12, 4)


def full_totals(session: Session) -> dict[str, int]:
    row = session.execute(text(OLD_TOTAL)).mappings().one()
    return {name: int(row[column]) for name, column in reporting.TOTAL_FIELDS}


def full_providers(
    session: Session, *, one_line_per_spelling: bool = False
) -> list[dict[str, Any]]:
    """The provider list from a full count. Since migration 0006 the spellings of a
    name are one line, under the first stored spelling; 0004 had one per spelling."""
    full = OLD_PROVIDERS
    if not one_line_per_spelling:
        sums = ", ".join(
            f"CAST(sum({column}) AS int) AS {column}"
            for _, column in reporting.PROVIDER_FIELDS[1:]
        )
        first = 'min(providername COLLATE "C") COLLATE "default" AS providername'
        spellings = f"({OLD_PROVIDERS}) AS s GROUP BY lower(providername)"
        full = f"SELECT {first}, {sums} FROM {spellings}"  # noqa: S608 - constants
    rows = session.execute(text(f"{full} ORDER BY providername")).mappings()
    return [{n: r[c] for n, c in reporting.PROVIDER_FIELDS} for r in rows]


def full_report(
    session: Session, filters: reporting.ReportFilters, paging: reporting.Paging
) -> tuple[list[dict[str, Any]], int]:
    """The report as it was answered before 0004: count(*), then OFFSET."""
    params = filters.params()
    src = (
        "FROM fncroppedimagereports(CAST(:from_date AS date), CAST(:to_date AS date),"
        " CAST(:provider AS text), CAST(:user_id AS integer))"
    )
    total = session.scalar(text(f"SELECT count(*) {src}"), params)  # noqa: S608
    rows = session.execute(
        text(f"SELECT * {src} LIMIT :limit OFFSET :offset"),  # noqa: S608
        {**params, "limit": paging.size, "offset": paging.offset},
    ).mappings()
    return [cropped_report._report_item(r) for r in rows], int(total or 0)


def provider_page(session: Session) -> list[dict[str, Any]]:
    items, total = reporting.provider_list(session, reporting.Paging(1, 500))
    assert total == len(items)
    return items


def assert_all_agree(
    session: Session,
    filters: list[reporting.ReportFilters],
    *,
    one_line_per_spelling: bool = False,
) -> None:
    assert counts.drift(session) == []
    assert reporting.totals(session) == full_totals(session)
    assert provider_page(session) == full_providers(
        session, one_line_per_spelling=one_line_per_spelling
    )
    for f in filters:
        expected_rows, expected_total = full_report(
            session, f, reporting.Paging(1, 500)
        )
        for size in (1, 3, 7):
            for number in range(1, expected_total // size + 3):
                page = reporting.Paging(number, size)
                got = reporting.cropped_image_report(session, f, page)
                start = page.offset
                assert got == (expected_rows[start : start + size], expected_total), (
                    f,
                    page,
                )


# --- random writes of every kind ---------------------------------------------------


def random_history(session: Session, users: list[int], seed: int, steps: int) -> None:
    """Empty the work items (through the triggers: one more write the kept counts
    must follow), add up to six at random and make ``steps`` random writes; nothing
    committed, so the caller rolls it back after its checks."""
    rng = random.Random(seed)
    session.execute(text("DELETE FROM smartcrop_programimage"))
    world = World(session, users)
    world.add_items(rng, rng.randint(0, 6))
    for _ in range(steps):
        world.step(rng)


class World:
    """Random rows written the ways the application writes them, in plain SQL."""

    def __init__(self, session: Session, users: list[int]) -> None:
        self.session = session
        self.users = users
        self.next_id = 0

    def sql(self, statement: str, **params: Any) -> Any:
        return self.session.execute(text(statement), params)

    def add_items(self, rng: random.Random, n: int) -> None:
        for _ in range(n):
            self.next_id += 1
            status = rng.choice((1, 2, 3, 4))
            locked = status in (1, 2) and rng.random() < 0.3
            self.sql(
                "INSERT INTO smartcrop_programimage (link_object_id, providername,"
                " imageurl, status, currentstate, lockedby, lockedat, rejectreasonid,"
                " croppedby, reviewedby, outputfilename)"
                " VALUES (:pid, :prov, :url, :status, :state, :lock,"
                " CASE WHEN :state = 1 THEN now() END, :reason, :cb, :rb, :out)",
                pid=f"SH{self.next_id % 7}",
                prov=rng.choice(PROVIDERS),
                url=f"https://img.example.com/{self.next_id}.jpg",
                status=status,
                state=1 if locked else 0,
                lock=rng.choice(self.users) if locked else None,
                reason=1 if status == 4 else None,
                cb=rng.choice([None, *self.users]),
                rb=rng.choice([None, *self.users]),
                out="out.csv" if status == 3 and rng.random() < 0.5 else None,
            )

    def item_ids(self) -> list[int]:
        return list(self.sql("SELECT id FROM smartcrop_programimage ORDER BY id"))

    def step(self, rng: random.Random) -> None:
        ids = [row[0] for row in self.item_ids()]
        if not ids:
            return self.add_items(rng, 3)
        some = rng.sample(ids, k=min(len(ids), rng.randint(1, 3)))
        kind = rng.randrange(8)
        day = TODAY - timedelta(days=rng.randint(0, 6))
        if kind == 0:
            self.add_items(rng, rng.randint(1, 4))
        elif kind == 1:  # renditions saved (insert or re-save), as save.py upserts
            self.sql(
                "INSERT INTO smartcrop_aspectratioimages (programimageid,"
                " link_object_id, aspectratioid, cropx, cropy, cropwidth, cropheight,"
                " storagekey, imageurl, updatedat)"
                " SELECT p.id, p.link_object_id, ar, 0, 0, 10, 10, 'k', 'u',"
                " CAST(:day AS timestamp) AT TIME ZONE 'UTC'"
                "   + make_interval(secs => :sec)"
                " FROM smartcrop_programimage p,"
                " unnest(CAST(:ratios AS smallint[])) ar WHERE p.id = ANY(:ids)"
                " ON CONFLICT (link_object_id, aspectratioid, programimageid)"
                " DO UPDATE SET updatedat = excluded.updatedat",
                ids=some,
                ratios=rng.sample([1, 2, 3, 4, 5], k=rng.randint(1, 5)),
                day=day,
                sec=rng.choice((0, 1, 86399, 3600)),
            )
        elif kind == 2:  # renditions taken away (a reject deletes them)
            self.sql(
                "DELETE FROM smartcrop_aspectratioimages"
                " WHERE programimageid = ANY(:ids)",
                ids=some,
            )
        elif kind == 3:  # a move: status, lock, cropper, reviewer
            self.sql(
                "UPDATE smartcrop_programimage SET status = :st, currentstate = 0,"
                " lockedby = NULL, lockedat = NULL, outputfilename = NULL,"
                " rejectreasonid = CASE WHEN :st = 4 THEN 1 END,"
                " croppedby = :cb, reviewedby = :rb WHERE id = ANY(:ids)",
                ids=some,
                st=rng.choice((1, 2, 3, 4)),
                cb=rng.choice([None, *self.users]),
                rb=rng.choice([None, *self.users]),
            )
        elif kind == 4:  # the nightly export's stamp
            self.sql(
                "UPDATE smartcrop_programimage SET outputfilename = 'n.csv',"
                " exportedat = now() WHERE status = 3 AND outputfilename IS NULL"
                " AND id = ANY(:ids)",
                ids=some,
            )
        elif kind == 5:  # a write that changes nothing counted (sizes)
            self.sql(
                "UPDATE smartcrop_programimage SET width = 10, height = 20"
                " WHERE id = ANY(:ids)",
                ids=some,
            )
        elif kind == 6:  # a work item deleted with its renditions (cascade)
            self.sql(
                "DELETE FROM smartcrop_programimage WHERE id = ANY(:ids)", ids=some
            )
        else:  # a claim
            self.sql(
                "UPDATE smartcrop_programimage SET currentstate = 1, lockedby = :u,"
                " lockedat = now() WHERE status IN (1, 2) AND currentstate = 0"
                " AND id = ANY(:ids)",
                ids=some,
                u=rng.choice(self.users),
            )


def report_filters(users: list[int]) -> list[reporting.ReportFilters]:
    return [
        reporting.ReportFilters(),
        reporting.ReportFilters(provider_name="NBCU"),
        reporting.ReportFilters(provider_name="tmdb", user_id=users[0]),
        reporting.ReportFilters(user_id=users[1]),
        reporting.ReportFilters(from_date=TODAY - timedelta(days=2)),
        reporting.ReportFilters(to_date=TODAY - timedelta(days=3)),
        reporting.ReportFilters(
            from_date=TODAY - timedelta(days=4),
            to_date=TODAY - timedelta(days=1),
            provider_name="Disney",
            user_id=users[2],
        ),
        reporting.ReportFilters(provider_name="nobody"),
    ]
