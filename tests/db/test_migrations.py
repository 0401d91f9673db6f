"""Migrations on a real PostgreSQL: up, down, up again; schema matches the models."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool

from smartcrop.db import libpq_url
from smartcrop.db.migrate import alembic_config, current_revision, downgrade, upgrade
from smartcrop.db.models import Base

TABLES = {
    "smartcrop_programimage",
    "smartcrop_aspectratioimages",
    "smartcrop_role",
    "smartcrop_rule",
    "smartcrop_user",
    "smartcrop_imagetype_lookup",
    "smartcrop_imagelanguage_lookup",
    "smartcrop_rejectreason_lookup",
    "smartcrop_aspectratio_lookup",
    "smartcrop_upload_files",
    "smartcrop_inputfiles",
    "smartcrop_programimage_audit",
    "smartcrop_settings",
}
VIEWS = {
    "view_smartcrop_total",
    "view_smartcrop_providerlist_total",
    "vwprogramimage",
    "vwaspectratioimages",
}
FUNCTIONS = {"fncroppedimagereports", "smartcrop_reports", "programimage_audit_reports"}


def _objects(url: str) -> tuple[set[str], set[str], set[str]]:
    with psycopg.connect(libpq_url(url)) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        views = {
            r[0]
            for r in conn.execute(
                "SELECT viewname FROM pg_views WHERE schemaname = 'public'"
            )
        }
        functions = {
            r[0]
            for r in conn.execute(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n"
                " ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            )
        }
    return tables, views, functions


def test_upgrade_creates_everything_and_downgrade_removes_it(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    tables, views, functions = _objects(empty_db_url)
    assert tables >= TABLES
    assert views >= VIEWS
    assert functions >= FUNCTIONS
    head = ScriptDirectory.from_config(alembic_config(empty_db_url)).get_current_head()
    assert current_revision(empty_db_url) == head

    downgrade(empty_db_url, "base")
    tables, views, functions = _objects(empty_db_url)
    assert tables <= {"alembic_version"}
    assert not views and not (FUNCTIONS & functions)

    upgrade(empty_db_url)  # and back up again on the same database
    assert _objects(empty_db_url)[0] >= TABLES


def test_models_and_migrations_describe_the_same_schema(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_seeded_rows(db_url: str) -> None:
    with psycopg.connect(libpq_url(db_url)) as conn:
        roles = [
            r[0]
            for r in conn.execute("SELECT rolename FROM smartcrop_role ORDER BY id")
        ]
        ratios = conn.execute(
            "SELECT id, title FROM smartcrop_aspectratio_lookup ORDER BY id"
        ).fetchall()
        qc = conn.execute("SELECT qcdisabled FROM smartcrop_settings").fetchall()
    assert roles == ["admin", "operator", "qa"]
    assert ratios == [(1, "16x9"), (2, "4x3"), (3, "3x4"), (4, "2x3"), (5, "1x1")]
    assert qc == [(False,)]


def test_seeded_lookups_agree_with_the_domain_constants(db_url: str) -> None:
    from smartcrop import lookups

    with psycopg.connect(libpq_url(db_url)) as conn:
        types = conn.execute(
            "SELECT id, title FROM smartcrop_imagetype_lookup ORDER BY id"
        )
        langs = conn.execute(
            "SELECT id, title FROM smartcrop_imagelanguage_lookup ORDER BY id"
        )
        reasons = conn.execute(
            "SELECT id, reason FROM smartcrop_rejectreason_lookup ORDER BY id"
        )
        assert [tuple(r) for r in types] == [tuple(t[:2]) for t in lookups.IMAGE_TYPES]
        assert [tuple(r) for r in langs] == [
            tuple(t[:2]) for t in lookups.IMAGE_LANGUAGES
        ]
        assert [tuple(r) for r in reasons] == [
            tuple(t[:2]) for t in lookups.REJECT_REASONS
        ]
        ratios = conn.execute(
            "SELECT id, title, ratiowidth, ratioheight"
            " FROM smartcrop_aspectratio_lookup ORDER BY id"
        )
        assert [tuple(r) for r in ratios] == [tuple(t) for t in lookups.ASPECT_RATIOS]


def test_the_indexes_the_hot_paths_need_exist(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=pool.NullPool)
    names = {ix["name"] for ix in inspect(engine).get_indexes("smartcrop_programimage")}
    engine.dispose()
    assert {
        "ix_smartcrop_programimage_operator_queue",
        "ix_smartcrop_programimage_qa_queue",
        "ix_smartcrop_programimage_locks",
        "ix_smartcrop_programimage_export_queue",
    } <= names
