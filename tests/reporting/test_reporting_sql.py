"""Every view and function answers correctly on a known, seeded scenario."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from smartcrop.db import libpq_url


@pytest.fixture
def scenario(db_url: str):
    """Two providers; images in every state; renditions; audit rows; an export."""
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        op = conn.execute(
            "INSERT INTO smartcrop_user (username, emailid, passwordhash, roleid)"
            " VALUES ('Olga Operator', 'olga@example.com', 'x', 2) RETURNING id"
        ).fetchone()[0]
        qa = conn.execute(
            "INSERT INTO smartcrop_user (username, emailid, passwordhash, roleid)"
            " VALUES ('Quinn QA', 'quinn@example.com', 'x', 3) RETURNING id"
        ).fetchone()[0]
        rows = [
            # programme, provider, status, state, locked by, output file, type id
            ("SH1", "NBCU", 1, 0, None, None, 1),
            ("SH1", "NBCU", 1, 1, op, None, 2),
            ("SH2", "NBCU", 2, 0, None, None, None),
            ("SH3", "NBCU", 3, 0, None, "SmartCrop_Manifest_20261126_020000.csv", 1),
            ("SH4", "TMDB", 3, 0, None, None, 3),
            ("SH5", "TMDB", 4, 0, None, None, 1),
        ]
        ids = []
        for n, (pid, prov, status, state, locked, out, tid) in enumerate(rows):
            ids.append(
                conn.execute(
                    "INSERT INTO smartcrop_programimage (link_object_id, providername,"
                    " imageurl, status, currentstate, lockedby, lockedat,"
                    " outputfilename, exportedat, imagetypeid, imagetype,"
                    " rejectreasonid, croppedby, reviewedby)"
                    " VALUES (%s, %s, %s, %s, %s, %s,"
                    " CASE WHEN %s::int IS NULL THEN NULL ELSE now() END, %s,"
                    " CASE WHEN %s::text IS NULL THEN NULL ELSE now() END, %s, %s, %s,"
                    " %s, %s) RETURNING id",
                    (
                        pid,
                        prov,
                        f"https://img/{n}.jpg",
                        status,
                        state,
                        locked,
                        locked,
                        out,
                        out,
                        tid,
                        None if tid else "Gallery",
                        2 if status == 4 else None,
                        op if status >= 2 else None,
                        qa if status == 3 else None,
                    ),
                ).fetchone()[0]
            )
        for image in (ids[3], ids[4]):
            for ratio in (1, 5):
                conn.execute(
                    "INSERT INTO smartcrop_aspectratioimages (programimageid,"
                    " link_object_id, aspectratioid, cropx, cropy, cropwidth,"
                    " cropheight, storagekey, imageurl, createdby, updatedby)"
                    " SELECT id, link_object_id, %s, 0, 0, 100, 100, 'k', 'u', %s, %s"
                    " FROM smartcrop_programimage WHERE id = %s",
                    (ratio, op, op, image),
                )
        audit = [
            (ids[2], op, "finish", 1, 1, 2, 0),
            (ids[3], op, "finish", 1, 1, 2, 0),
            (ids[3], qa, "approve", 2, 1, 3, 0),
            (ids[4], op, "finish", 1, 1, 3, 0),
            (ids[5], op, "reject", 1, 1, 4, 0),
        ]
        for image, user, action, fs, fst, ts, tst in audit:
            conn.execute(
                "INSERT INTO smartcrop_programimage_audit (programimageid,"
                " link_object_id, userid, action, fromstatus, fromstate, tostatus,"
                " tostate) SELECT id, link_object_id, %s, %s, %s, %s, %s, %s"
                " FROM smartcrop_programimage WHERE id = %s",
                (user, action, fs, fst, ts, tst, image),
            )
        yield conn, {"op": op, "qa": qa, "ids": ids}


def test_totals_view(scenario) -> None:
    conn, _ = scenario
    row = conn.execute("SELECT * FROM view_smartcrop_total").fetchone()
    # total, operator queue, QA queue, completed, rejected, locked, exported
    assert row == (6, 2, 1, 2, 1, 1, 1)


def test_provider_list_view(scenario) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT * FROM view_smartcrop_providerlist_total ORDER BY providername"
    ).fetchall()
    assert rows == [("NBCU", 4, 2, 1, 1, 0), ("TMDB", 2, 0, 0, 1, 1)]


def test_program_image_view_resolves_lookups(scenario) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT programid, imagetype, rejectreason, croppedbyname"
        " FROM vwProgramImage ORDER BY imageid"
    ).fetchall()
    assert rows[0] == ("SH1", "Poster", None, None)
    assert rows[2] == ("SH2", "Gallery", None, "Olga Operator")  # unknown type kept
    assert rows[5] == ("SH5", "Poster", "Watermark or text overlay", "Olga Operator")


def test_aspect_ratio_view(scenario) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT programid, aspectratio, createdbyname FROM vwAspectRatioImages"
        " ORDER BY programid, aspectratioid"
    ).fetchall()
    assert rows == [
        ("SH3", "16x9", "Olga Operator"),
        ("SH3", "1x1", "Olga Operator"),
        ("SH4", "16x9", "Olga Operator"),
        ("SH4", "1x1", "Olga Operator"),
    ]


def test_cropped_image_report_filters(scenario) -> None:
    conn, who = scenario
    today = date.today()
    every = conn.execute(
        "SELECT programid, aspectratio, croppedby, reviewedby, outputfilename"
        " FROM fncroppedimagereports(%s, %s, NULL, NULL)",
        (today - timedelta(days=1), today + timedelta(days=1)),
    ).fetchall()
    assert len(every) == 4
    assert (
        "SH3",
        "16x9",
        "Olga Operator",
        "Quinn QA",
        "SmartCrop_Manifest_20261126_020000.csv",
    ) in every
    tmdb = conn.execute(
        "SELECT programid FROM fncroppedimagereports(NULL, NULL, 'tmdb', NULL)"
    ).fetchall()
    assert {r[0] for r in tmdb} == {"SH4"}
    by_qa = conn.execute(
        "SELECT programid FROM fncroppedimagereports(NULL, NULL, NULL, %s)",
        (who["qa"],),
    ).fetchall()
    assert {r[0] for r in by_qa} == {"SH3", "SH4"}
    past = conn.execute(
        "SELECT count(*) FROM fncroppedimagereports(%s, %s, NULL, NULL)",
        (today - timedelta(days=10), today - timedelta(days=5)),
    ).fetchone()
    assert past == (0,)


def test_summary_report_per_provider_and_day(scenario) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT providername, ingested, cropped, approved, rejected, exported"
        " FROM smartcrop_reports(1) ORDER BY providername"
    ).fetchall()
    assert rows == [("NBCU", 4, 2, 1, 0, 1), ("TMDB", 2, 1, 0, 1, 0)]


def test_audit_report_lists_every_move(scenario) -> None:
    conn, _ = scenario
    rows = conn.execute(
        "SELECT programid, username, action, tostatus, rejectreason"
        " FROM programimage_audit_reports(1)"
    ).fetchall()
    assert len(rows) == 5
    assert rows[2] == ("SH3", "Quinn QA", "approve", 3, None)
    older = conn.execute(
        "UPDATE smartcrop_programimage SET createdat = now() - interval '5 days'"
        " RETURNING id"
    ).fetchall()
    assert older
    # Ingestions five days ago fall outside a 1-day summary but inside a 7-day one.
    assert conn.execute(
        "SELECT coalesce(sum(ingested), 0) FROM smartcrop_reports(1)"
    ).fetchone() == (0,)
    assert conn.execute(
        "SELECT sum(ingested) FROM smartcrop_reports(7)"
    ).fetchone() == (6,)
