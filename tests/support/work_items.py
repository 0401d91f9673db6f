"""Work items, users and rendition images made directly in the database for tests.

Ingestion is another part's job; these helpers write the rows the workflow starts from.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

_user_seq = iter(range(1, 10**9))


@contextmanager
def engine_for(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, pool_size=20, max_overflow=20)
    try:
        yield engine
    finally:
        engine.dispose()


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def add_user(engine: Engine, role: str = "operator", name: str | None = None) -> int:
    n = next(_user_seq)
    with engine.begin() as conn:
        return conn.execute(
            text(
                "INSERT INTO smartcrop_user (username, emailid, passwordhash, roleid)"
                " SELECT :name, :email, 'not-a-hash', id FROM smartcrop_role"
                " WHERE rolename = :role RETURNING id"
            ),
            {
                "name": name or f"{role} {n}",
                "email": f"{role}{n}-{id(engine)}@example.com",
                "role": role,
            },
        ).scalar_one()


def add_item(
    engine: Engine,
    program_id: str,
    provider: str = "NBCU",
    *,
    url: str | None = None,
    width: int | None = 2000,
    height: int | None = 3000,
    status: int = 1,
    state: int = 0,
    locked_by: int | None = None,
    age: timedelta = timedelta(0),
    title: str = "Night Court",
    image_type_id: int | None = 1,
    language_id: int | None = 1,
    reject_reason_id: int | None = None,
) -> int:
    """One work item; ``age`` moves its createdat into the past (queue order)."""
    with engine.begin() as conn:
        return conn.execute(
            text(
                "INSERT INTO smartcrop_programimage (link_object_id, providername,"
                " programtitle, imageurl, imagetypeid, languageid, width, height,"
                " status, currentstate, lockedby, lockedat, rejectreasonid, createdat)"
                " VALUES (:pid, :provider, :title, :url, :type, :lang, :w, :h,"
                " :status, :state, :locked,"
                " CASE WHEN CAST(:locked AS int) IS NULL THEN NULL ELSE now() END,"
                " :reason, now() - :age) RETURNING id"
            ),
            {
                "pid": program_id,
                "provider": provider,
                "title": title,
                "url": url
                or f"https://images.example.com/{program_id}/{next(_user_seq)}.jpg",
                "type": image_type_id,
                "lang": language_id,
                "w": width,
                "h": height,
                "status": status,
                "state": state,
                "locked": locked_by,
                "reason": reject_reason_id,
                "age": age,
            },
        ).scalar_one()


def add_rendition(
    engine: Engine, image_id: int, aspect_ratio_id: int = 1, user: int | None = None
) -> None:
    """A stored rendition row of the image (no file): what finishing asks for."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO smartcrop_aspectratioimages (programimageid,"
                " link_object_id, aspectratioid, cropx, cropy, cropwidth, cropheight,"
                " storagekey, imageurl, filesize, createdby)"
                " SELECT id, link_object_id, :ratio, 0, 0, 160, 90,"
                " 'test/' || id || '/' || :ratio, 'https://cdn.example.com/' || id,"
                " 1, :user FROM smartcrop_programimage WHERE id = :id"
            ),
            {"id": image_id, "ratio": aspect_ratio_id, "user": user},
        )


def states(engine: Engine, *image_ids: int) -> list[tuple[int, int, int | None]]:
    """(status, currentstate, lockedby) of each image, in the order given."""
    with engine.connect() as conn:
        rows = dict(
            (row[0], tuple(row[1:]))
            for row in conn.execute(
                text(
                    "SELECT id, status, currentstate, lockedby"
                    " FROM smartcrop_programimage WHERE id = ANY(:ids)"
                ),
                {"ids": list(image_ids)},
            )
        )
    return [rows[i] for i in image_ids]


def age_locks(engine: Engine, minutes: int, *image_ids: int) -> None:
    """Move the lock time of these images ``minutes`` into the past."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_programimage"
                " SET lockedat = lockedat - make_interval(mins => :m)"
                " WHERE id = ANY(:ids)"
            ),
            {"m": minutes, "ids": list(image_ids)},
        )


def audit_rows(engine: Engine, image_id: int | None = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(row)
            for row in conn.execute(
                text(
                    "SELECT programimageid, link_object_id, userid, action, fromstatus,"
                    " fromstate, tostatus, tostate, rejectreasonid, details"
                    " FROM smartcrop_programimage_audit"
                    " WHERE CAST(:id AS bigint) IS NULL OR programimageid = :id"
                    " ORDER BY id"
                ),
                {"id": image_id},
            ).mappings()
        ]


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Everything the workflow writes: a refused request must leave it unchanged."""
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(sql))]
            for table, sql in {
                "images": "SELECT * FROM smartcrop_programimage ORDER BY id",
                "renditions": "SELECT * FROM smartcrop_aspectratioimages ORDER BY id",
                "audit": "SELECT * FROM smartcrop_programimage_audit ORDER BY id",
            }.items()
        }


def image_b64(
    width: int, height: int, fmt: str = "PNG", *, noise: bool = False, **save: Any
) -> str:
    """A real image, base64-encoded, as the frontend sends renditions.

    One colour (tiny once compressed), or random pixels (``noise``: incompressible).
    """
    buffer = io.BytesIO()
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 40, 90))
    image.save(buffer, format=fmt, **save)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def set_qa_disabled(engine: Engine, disabled: bool) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE smartcrop_settings SET qcdisabled = :d WHERE id = 1"),
            {"d": disabled},
        )
