"""Rows landed linked to their work items, and the repair when they are not."""

from __future__ import annotations

from pathlib import Path

import psycopg

from smartcrop.ingestion import landing, work_items
from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
)
from tests.support.landing import ingest as _ingest
from tests.support.landing import land as _land
from tests.support.landing import press as _press
from tests.support.landing import row as _row

_ORACLE = """
SELECT i.rownumber,
       CASE WHEN i.rejectreason IS NULL THEN p.id END,
       CASE WHEN i.rejectreason IS NULL
            THEN NOT (p.uploadfileid = i.uploadfileid AND i.rownumber = f.first_row)
            ELSE false END
FROM smartcrop_inputfiles i
LEFT JOIN smartcrop_programimage p
  ON p.link_object_id = i.link_object_id AND p.imageurl = i.imageurl
LEFT JOIN (
  SELECT link_object_id, imageurl, min(rownumber) AS first_row
  FROM smartcrop_inputfiles WHERE uploadfileid = %(file)s AND rejectreason IS NULL
  GROUP BY link_object_id, imageurl
) f ON f.link_object_id = i.link_object_id AND f.imageurl = i.imageurl
WHERE i.uploadfileid = %(file)s
ORDER BY i.rownumber
"""


def _links(conn: psycopg.Connection, file_id: int) -> list[tuple]:
    """(row, work item, duplicate) of each landed row of the file."""
    return conn.execute(
        "SELECT rownumber, programimageid, isduplicate FROM smartcrop_inputfiles"
        " WHERE uploadfileid = %s ORDER BY rownumber",
        (file_id,),
    ).fetchall()


def _assert_linked(conn: psycopg.Connection, file_id: int) -> None:
    expected = conn.execute(_ORACLE, {"file": file_id}).fetchall()
    accepted = conn.execute(
        "SELECT rownumber FROM smartcrop_inputfiles"
        " WHERE uploadfileid = %s AND rejectreason IS NULL",
        (file_id,),
    ).fetchall()
    assert accepted
    assert all(item is not None for row, item, _ in expected if (row,) in accepted)
    assert _links(conn, file_id) == expected


def _row_versions(conn: psycopg.Connection, file_id: int) -> set[str]:
    """The transactions that wrote the file's landed rows as they are now."""
    rows = conn.execute(
        "SELECT DISTINCT xmin::text FROM smartcrop_inputfiles WHERE uploadfileid = %s",
        (file_id,),
    ).fetchall()
    return {r[0] for r in rows}


def _file_a(tmp_path: Path) -> Path:
    return _press(
        tmp_path / "NBCU_links_a.xlsx",
        [
            _row("SH1", 1),
            _row("SH1", 2),
            _row("SH1", 1),  # a duplicate within the file
            _row("SH9", 1, width=0),  # rejected
            _row("SH2", 1),
            _row("SH1", 2),  # another
        ],
    )


def _file_b(tmp_path: Path) -> Path:
    return _press(
        tmp_path / "WBD_links_b.xlsx",
        [
            _row("SH3", 1),
            _row("SH1", 2),  # already a work item, from file a
            _row("SH3", 1),
            _row("SH4", 1),
        ],
    )


def test_rows_land_linked_and_are_written_once(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    record, derived = _ingest(conn, _file_a(tmp_path))
    assert derived == work_items.DerivationResult(3, 2, 5)
    _assert_linked(conn, record.id)
    assert _links(conn, record.id)[3] == (5, None, False)  # the rejected row
    # Linked as they landed: deriving rewrote none of them.
    assert len(_row_versions(conn, record.id)) == 1
    items = conn.execute(
        "SELECT id FROM smartcrop_programimage ORDER BY imageurl"
    ).fetchall()
    assert [r[0] for r in items] == sorted(r[0] for r in items)  # in row order


def test_a_pair_already_known_is_linked_to_the_existing_item(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    first, _ = _ingest(conn, _file_a(tmp_path))
    before = _links(conn, first.id)
    second, derived = _ingest(conn, _file_b(tmp_path))
    assert derived == work_items.DerivationResult(2, 2, 4)
    _assert_linked(conn, second.id)
    assert _links(conn, first.id) == before
    known = conn.execute(
        "SELECT id FROM smartcrop_programimage WHERE link_object_id = 'SH1'"
        " AND imageurl LIKE '%%/2.jpg'"
    ).fetchone()
    assert _links(conn, second.id)[1] == (3, known[0], True)
    # Only the row whose guess was wrong was written again.
    assert len(_row_versions(conn, second.id)) == 2


def test_deriving_again_writes_nothing_and_counts_the_same(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    _ingest(conn, _file_a(tmp_path))
    record, derived = _ingest(conn, _file_b(tmp_path))
    links, versions = _links(conn, record.id), _row_versions(conn, record.id)
    assert work_items.derive_work_items(conn, record) == derived
    assert _links(conn, record.id) == links
    assert _row_versions(conn, record.id) == versions
    assert conn.execute("SELECT count(*) FROM smartcrop_programimage").fetchone() == (
        5,
    )


def test_landing_again_after_deriving_keeps_the_items(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    path = _file_a(tmp_path)
    record, derived = _ingest(conn, path)
    items = conn.execute("SELECT * FROM smartcrop_programimage ORDER BY id").fetchall()
    landing.land_rows(conn, record, path, DEFAULT_PROVIDER_FILE_TYPE)
    assert work_items.derive_work_items(conn, record) == derived
    _assert_linked(conn, record.id)
    assert (
        conn.execute("SELECT * FROM smartcrop_programimage ORDER BY id").fetchall()
        == items
    )


def test_rows_landed_without_links_are_linked(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    # As the previous version landed them: no link, no duplicate flag.
    _ingest(conn, _file_a(tmp_path))
    path = _file_b(tmp_path)
    record = _land(conn, path)
    conn.execute(
        "UPDATE smartcrop_inputfiles SET programimageid = NULL, isduplicate = false"
        " WHERE uploadfileid = %s",
        (record.id,),
    )
    assert work_items.derive_work_items(conn, record) == work_items.DerivationResult(
        2, 2, 4
    )
    _assert_linked(conn, record.id)


def test_a_reserved_id_already_in_use_is_repaired(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    _ingest(conn, _file_a(tmp_path))
    path = _file_b(tmp_path)
    record = _land(conn, path)
    # Row 2 of file b (SH3/1) given the id of another pair's work item.
    (taken,) = conn.execute("SELECT min(id) FROM smartcrop_programimage").fetchone()
    conn.execute(
        "UPDATE smartcrop_inputfiles SET programimageid = %s"
        " WHERE uploadfileid = %s AND rownumber = 2",
        (taken, record.id),
    )
    assert work_items.derive_work_items(conn, record) == work_items.DerivationResult(
        2, 2, 4
    )
    _assert_linked(conn, record.id)
    pairs = conn.execute(
        "SELECT count(*), count(DISTINCT (link_object_id, imageurl))"
        " FROM smartcrop_programimage"
    ).fetchone()
    assert pairs == (5, 5)


def test_item_ids_are_reserved_in_order_even_when_not_consecutive(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    assert list(landing._reserve_item_ids(conn, 3)) == [1, 2, 3]
    # Ids taken by other sessions in between leave gaps; here the sequence makes them.
    conn.execute("ALTER SEQUENCE smartcrop_programimage_id_seq INCREMENT BY 3")
    assert list(landing._reserve_item_ids(conn, 3)) == [6, 9, 12]
    record, derived = _ingest(conn, _file_a(tmp_path))
    assert derived == work_items.DerivationResult(3, 2, 5)
    _assert_linked(conn, record.id)
    assert len(_row_versions(conn, record.id)) == 1


# --- the every_row_has_a_work_item check ----------------------------------------------


def test_every_accepted_row_has_its_work_item_once_derived(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    _ingest(conn, _file_a(tmp_path))  # partition: the file's name
    found = work_items.unlinked_rows(conn, ["NBCU_links_a.xlsx"])
    # 5 accepted rows (the rejected one is not judged), all linked.
    assert (found.passed, found.files, found.accepted_rows) == (True, 1, 5)
    assert found.first_unlinked == []


def test_a_deleted_work_item_leaves_its_rows_unlinked(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    _ingest(conn, _file_a(tmp_path))
    _ingest(conn, _file_b(tmp_path))
    # SH1/2 is an item of file a that file b also points at (sheet rows 3 and 7 of
    # a, under the header; row 3 of b).
    conn.execute(
        "DELETE FROM smartcrop_programimage WHERE link_object_id = 'SH1'"
        " AND imageurl = 'https://press.example.com/SH1/2.jpg'"
    )

    found = work_items.unlinked_rows(conn, ["NBCU_links_a.xlsx"])

    assert not found.passed
    assert (found.accepted_rows, found.unlinked_rows) == (5, 2)
    assert found.unlinked_by_file == {"NBCU_links_a.xlsx": 2}
    assert [(r.row, r.program_id) for r in found.first_unlinked] == [
        (3, "SH1"),
        (7, "SH1"),
    ]
    assert found.first_unlinked[0].image_url == "https://press.example.com/SH1/2.jpg"
    # Every file, when no partition is given.
    every = work_items.unlinked_rows(conn, None)
    assert (every.files, every.accepted_rows, every.unlinked_rows) == (2, 9, 3)
    assert every.unlinked_by_file == {"NBCU_links_a.xlsx": 2, "WBD_links_b.xlsx": 1}


def test_rows_landed_without_work_items_fail_the_check(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    path = _file_b(tmp_path)
    record = _land(conn, path)

    landed = work_items.unlinked_rows(conn, [path.name])
    # Each row names the id reserved for it, but no item has that id yet.
    assert (landed.passed, landed.accepted_rows, landed.unlinked_rows) == (False, 4, 4)
    assert all(r.linked_to is not None for r in landed.first_unlinked)

    work_items.derive_work_items(conn, record)
    assert work_items.unlinked_rows(conn, [path.name]).passed
    # A partition with no file is nothing to check.
    assert work_items.unlinked_rows(conn, ["GHOST.xlsx-0000000000"]).files == 0
