"""Seeding the workflow tables directly (fast, for the claims, export and API data)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from bench.harness.database import BenchDatabase
from bench.harness.manifest import IMAGE_BASE_UNREACHABLE, SIZES, TITLES

BENCH_PASSWORD = "bench passphrase, loopback only"  # noqa: S105 - throw-away users


def create_users(url: str, role: str, count: int, prefix: str) -> list[tuple[int, str]]:
    """``count`` active users of ``role`` (through the project's create_user, so the
    password hashes are real): [(id, e-mail)]."""
    from sqlalchemy import create_engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop.identity import create_user  # noqa: PLC0415

    engine = create_engine(url)
    made: list[tuple[int, str]] = []
    try:
        with Session(engine) as session, session.begin():
            for i in range(1, count + 1):
                email = f"{prefix}{i}@bench.example"
                user = create_user(
                    session,
                    name=f"{prefix.title()} {i}",
                    email=email,
                    password=BENCH_PASSWORD,
                    role_name=role,
                )
                made.append((user.id, email))
    finally:
        engine.dispose()
    return made


_ITEM_COLUMNS = (
    "link_object_id",
    "providername",
    "programtitle",
    "imageurl",
    "imagetypeid",
    "imagetype",
    "languageid",
    "language",
    "width",
    "height",
    "rights",
    "notes",
    "status",
    "currentstate",
    "rejectreasonid",
    "croppedby",
    "croppedat",
    "completedby",
    "completedat",
    "createdat",
)
_ITEM_TYPES = (
    "varchar",
    "varchar",
    "text",
    "text",
    "int2",
    "text",
    "int2",
    "text",
    "int4",
    "int4",
    "text",
    "text",
    "int2",
    "int2",
    "int2",
    "int4",
    "timestamptz",
    "int4",
    "timestamptz",
    "timestamptz",
)


def seed_work_items(
    url: str,
    *,
    programmes: int,
    images_per_programme: int,
    seed: int,
    provider: str = "NBCU",
    statuses: Sequence[tuple[int, float]] = ((1, 1.0),),
    user_id: int | None = None,
    image_base: str = IMAGE_BASE_UNREACHABLE,
) -> int:
    """Work items straight into ``smartcrop_programimage`` with one binary COPY:
    ``programmes`` x ``images_per_programme`` rows, all free, their status drawn
    from ``statuses`` (status, weight) per programme; sizes always known (so no
    claim fetches an image). Rows of status >= 2 name ``user_id`` as cropper, 3 as
    completer, 4 carry a reject reason. Queue order (createdat) is programme order.
    """
    import psycopg  # noqa: PLC0415

    rng = random.Random(seed)  # noqa: S311 - test data
    codes, weights = zip(*statuses, strict=True)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    total = 0
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY smartcrop_programimage ({', '.join(_ITEM_COLUMNS)})"  # noqa: S608
                " FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(_ITEM_TYPES)
            for program in range(programmes):
                status = rng.choices(codes, weights)[0]
                pid = f"SH{provider}{program:08d}"  # unique across providers
                when = start + dt.timedelta(milliseconds=program)
                for image in range(images_per_programme):
                    width, height = SIZES[rng.randrange(len(SIZES))]
                    copy.write_row(
                        (
                            pid,
                            provider,
                            TITLES[program % len(TITLES)],
                            f"{image_base}/{provider}/{program:08d}/{image:03d}.jpg",
                            1 + image % 6,
                            "Poster",
                            1,
                            "en",
                            width,
                            height,
                            "Provider Supplied",
                            "",
                            status,
                            0,
                            7 if status == 4 else None,
                            user_id if status >= 2 else None,
                            when if status >= 2 else None,
                            user_id if status == 3 else None,
                            when if status == 3 else None,
                            when,
                        )
                    )
                    total += 1
        conn.execute("ANALYZE smartcrop_programimage")
    return total


def seed_renditions(url: str, user_id: int | None) -> int:
    """One rendition per aspect ratio for every completed (3) work item, in SQL."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        made = conn.execute(
            """
            INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
                aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey,
                imageurl, filesize, createdby)
            SELECT p.id, p.link_object_id, ar.id, 0, 0,
                   1080 * ar.ratiowidth / ar.ratioheight, 1080,
                   format('%%s/%%s/%%s/%%s.jpg', p.providername, p.link_object_id,
                          p.id, ar.title),
                   format('http://127.0.0.1:9/renditions/%%s/%%s/%%s/%%s.jpg',
                          p.providername, p.link_object_id, p.id, ar.title),
                   20000, %(user)s
            FROM smartcrop_programimage p
            CROSS JOIN smartcrop_aspectratio_lookup ar
            WHERE p.status = 3
            """,
            {"user": user_id},
        ).rowcount
        conn.execute("ANALYZE smartcrop_aspectratioimages")
    return made
