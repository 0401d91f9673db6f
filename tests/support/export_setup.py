"""Building export scenarios straight in the database, and settings for the targets.

Work items, renditions and users are inserted with SQL (as the workflow would leave
them), so the export tests depend on nothing but the schema.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

from smartcrop.db import libpq_url
from smartcrop.settings import Settings, load_settings
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.sftp_server import SftpTestServer

ORIGIN = "https://origin.example.com"
CDN = "https://cdn.example.com"
RATIOS = {"16x9": 1, "4x3": 2, "3x4": 3, "2x3": 4, "1x1": 5}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def query(db_url: str, sql: str, params: Any = ()) -> list[tuple]:
    with psycopg.connect(libpq_url(db_url)) as conn:
        return conn.execute(sql, params).fetchall()


def execute(db_url: str, sql: str, params: Any = ()) -> None:
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute(sql, params)


def add_user(db_url: str, name: str, role: str = "operator") -> int:
    return query(
        db_url,
        "INSERT INTO smartcrop_user (username, emailid, passwordhash, roleid)"
        " SELECT %s, %s, 'not-a-real-hash', id FROM smartcrop_role"
        " WHERE rolename = %s RETURNING id",
        (name, f"{name.replace(' ', '.').lower()}@example.com", role),
    )[0][0]


def add_image(
    db_url: str,
    *,
    program_id: str,
    provider: str = "NBCU",
    title: str = "A Title",
    image_url: str | None = None,
    image_id: int | None = None,
    status: int = 3,
    image_type: str | None = "Poster",
    image_type_id: int | None = 1,
    language: str | None = "English",
    language_id: int | None = 1,
    cropped_by: int | None = None,
    completed_by: int | None = None,
    completed_at: datetime | None = None,
    output_file: str | None = None,
    ratios: tuple[str, ...] = ("16x9", "4x3", "3x4", "2x3", "1x1"),
    created_at: datetime | None = None,
) -> int:
    """One work item and its renditions (one per ratio); returns the image id."""
    columns: dict[str, Any] = {
        "link_object_id": program_id,
        "providername": provider,
        "programtitle": title,
        "imageurl": image_url or f"{ORIGIN}/sources/{program_id}/{image_id}.jpg",
        "imagetype": image_type,
        "imagetypeid": image_type_id,
        "language": language,
        "languageid": language_id,
        "width": 2000,
        "height": 3000,
        "status": status,
        "currentstate": 0,
        "croppedby": cropped_by,
        "croppedat": completed_at if cropped_by else None,
        "completedby": completed_by,
        "completedat": completed_at if status == 3 else None,
        "outputfilename": output_file,
        "exportedat": completed_at if output_file else None,
    }
    if status == 4:
        columns["rejectreasonid"] = 1
    if image_id is not None:
        columns["id"] = image_id
    if created_at is not None:
        columns["createdat"] = created_at
        columns["updatedat"] = created_at
    statement = sql.SQL(
        "INSERT INTO smartcrop_programimage ({}) VALUES ({}) RETURNING id"
    ).format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    new_id = query(db_url, statement, list(columns.values()))[0][0]
    for n, ratio in enumerate(ratios):
        add_rendition(
            db_url, new_id, program_id, provider, ratio, x=n, created_at=created_at
        )
    return new_id


def add_rendition(
    db_url: str,
    image_id: int,
    program_id: str,
    provider: str,
    ratio: str,
    *,
    x: int = 0,
    created_at: datetime | None = None,
) -> None:
    key = f"{provider}/{program_id}/{image_id}/{ratio}.png"
    w, h = (int(v) for v in ratio.split("x"))
    stamp = created_at or datetime.now(UTC)
    execute(
        db_url,
        "INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,"
        " aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,"
        " createdat, updatedat)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            image_id,
            program_id,
            RATIOS[ratio],
            x,
            2 * x,
            w * 100,
            h * 100,
            key,
            f"{ORIGIN}/renditions/{key}",
            stamp,
            stamp,
        ),
    )


def stamps(db_url: str) -> dict[int, str | None]:
    """image id -> OutputFileName, for every work item."""
    return dict(query(db_url, "SELECT id, outputfilename FROM smartcrop_programimage"))


def set_qa_disabled(db_url: str, disabled: bool) -> None:
    execute(db_url, "UPDATE smartcrop_settings SET qcdisabled = %s", (disabled,))


# --- settings ------------------------------------------------------------------------


def base_config(tmp_path: Path, db_url: str) -> dict[str, Any]:
    return {
        "database": {"url": db_url, "embedded_dir": str(tmp_path / "pgdata")},
        "processing_middleware": {
            "local_filesystem": {
                "root_path": str(tmp_path / "staging"),
                "quarantine_path": str(tmp_path / "quarantine"),
                "work_dir": str(tmp_path / "work"),
            }
        },
        "smartcrop_service": {
            "cdn": {"origin_base_url": ORIGIN, "rewrite_base_url": CDN},
            "storage": {"local_root": str(tmp_path / "renditions")},
            "auth": {"secret_file": str(tmp_path / "jwt_secret")},
        },
        "smartcrop_filewatcher_batchjob": {"output_dir": str(tmp_path / "outbound")},
        "smartcrop_dumpdata": {"local_path": str(tmp_path / "dumps")},
    }


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def s3_sections(endpoint_url: str, bucket: str) -> dict[str, Any]:
    """The renditions bucket on a moto server (the manifest's s3 target)."""
    return {
        "aws_config": {
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "service_accounts": [{"uat": {"smartcrop_bucket": bucket}}],
        },
        "smartcrop_service": {"storage": {"endpoint_url": endpoint_url}},
    }


def ftp_sections(
    output: SftpTestServer, audit: SftpTestServer | None = None
) -> dict[str, Any]:
    """smartcrop_ftp_config for test servers, credentials base64 as legacy configs."""
    audit = audit or output
    assert audit.host == output.host
    for server, folder in ((output, "outbound"), (audit, "audit")):
        server.path(f"/{folder}").mkdir(parents=True, exist_ok=True)

    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()

    return {
        "smartcrop_ftp_config": {
            "host": output.host,
            "ports": {"output": output.port, "audit": audit.port},
            "directories": {"output": "/outbound", "audit": "/audit"},
            "credentials": {
                "username_b64": b64(output.username),
                "password_b64": b64(output.password),
            },
        }
    }


def settings_from(config: dict[str, Any]) -> Settings:
    return load_settings(**json.loads(json.dumps(config)))


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path
