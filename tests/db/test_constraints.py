"""The database itself refuses rows that would break the contract."""

from __future__ import annotations

import psycopg
import pytest

from smartcrop.db import libpq_url

IMAGE = (
    "INSERT INTO smartcrop_programimage (link_object_id, providername, imageurl,"
    " status, currentstate, lockedby, lockedat, rejectreasonid)"
    " VALUES (%s, 'NBCU', %s, %s, %s, %s, %s, %s) RETURNING id"
)


@pytest.fixture
def conn(db_url: str):
    with psycopg.connect(libpq_url(db_url), autocommit=True) as connection:
        yield connection


def _user(conn: psycopg.Connection) -> int:
    return conn.execute(
        "INSERT INTO smartcrop_user (username, emailid, passwordhash, roleid)"
        " VALUES ('op', 'op@example.com', 'x', 2) RETURNING id"
    ).fetchone()[0]


def test_a_valid_free_work_item_is_accepted(conn: psycopg.Connection) -> None:
    row = conn.execute(IMAGE, ("SH1", "https://x/1.jpg", 1, 0, None, None, None))
    assert row.fetchone()[0] > 0


@pytest.mark.parametrize(
    ("status", "state", "locked", "reason"),
    [
        (5, 0, False, None),  # no such status
        (1, 2, False, None),  # no such state
        (1, 1, False, None),  # locked without an owner
        (1, 0, True, None),  # an owner on a free row
        (4, 0, False, None),  # rejected without a reason
    ],
)
def test_impossible_states_are_refused(
    conn: psycopg.Connection, status: int, state: int, locked: bool, reason: int | None
) -> None:
    user = _user(conn) if locked else None
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            IMAGE,
            (
                "SH1",
                "https://x/1.jpg",
                status,
                state,
                user,
                "now()" if locked else None,
                reason,
            ),
        )


def test_the_same_programme_and_url_is_one_work_item(conn: psycopg.Connection) -> None:
    conn.execute(IMAGE, ("SH1", "https://x/1.jpg", 1, 0, None, None, None))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(IMAGE, ("SH1", "https://x/1.jpg", 1, 0, None, None, None))
    # The same URL for another programme is another work item.
    conn.execute(IMAGE, ("SH2", "https://x/1.jpg", 1, 0, None, None, None))


def test_one_rendition_per_programme_ratio_and_image(conn: psycopg.Connection) -> None:
    image = conn.execute(
        IMAGE, ("SH1", "https://x/1.jpg", 1, 0, None, None, None)
    ).fetchone()[0]
    insert = (
        "INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,"
        " aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl)"
        " VALUES (%s, 'SH1', %s, 0, 0, 160, 90, 'k', 'u')"
    )
    conn.execute(insert, (image, 1))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(insert, (image, 1))
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(insert, (image, 99))


def test_audit_rows_cannot_be_changed_or_deleted(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO smartcrop_programimage_audit (programimageid, link_object_id,"
        " action, tostatus, tostate) VALUES (1, 'SH1', 'claim', 1, 1)"
    )
    with pytest.raises(psycopg.errors.RaiseException):
        conn.execute("DELETE FROM smartcrop_programimage_audit")
    with pytest.raises(psycopg.errors.RaiseException):
        conn.execute("UPDATE smartcrop_programimage_audit SET action = 'x'")
    assert conn.execute(
        "SELECT count(*) FROM smartcrop_programimage_audit"
    ).fetchone() == (1,)


def test_a_file_with_the_same_content_is_recorded_once(
    conn: psycopg.Connection,
) -> None:
    insert = (
        "INSERT INTO smartcrop_upload_files (filename, source, sourcepath, filesize,"
        " checksum, status) VALUES (%s, 'local', %s, 10, 'abc', %s)"
    )
    conn.execute(insert, ("A.xlsx", "/s/A.xlsx", "ingested"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(insert, ("B.xlsx", "/s/B.xlsx", "pending"))
    # A failed earlier attempt does not block the corrected file.
    conn.execute(insert, ("A2.xlsx", "/s/A2.xlsx", "failed"))
