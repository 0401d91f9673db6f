"""The embedded PostgreSQL server used when ``database.url`` is empty.

One module owns it. On Python versions that ``pgserver`` ships wheels for, its bundled
PostgreSQL 16 runs from ``database.embedded_dir`` (data kept across starts, reached
through a Unix socket in that folder). Elsewhere a PostgreSQL found on the PATH (or in
Debian's ``/usr/lib/postgresql/*/bin``) is started the same way. The server is stopped
when the last process that started or joined it exits.
"""

from __future__ import annotations

import atexit
import glob
import logging
import os
import pwd
import shutil
import subprocess
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[Path, str] = {}
_handles: dict[Path, object] = {}


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started; the message says what to do."""


def embedded_url(data_dir: Path | str) -> str:
    """Start (or join) the embedded server in ``data_dir``; return its URL."""
    path = Path(data_dir).expanduser().resolve()
    with _lock:
        if path in _servers:
            return _servers[path]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import pgserver  # noqa: PLC0415 - optional: no wheels past CPython 3.12
        except ImportError:
            url = _start_from_path(path)
        else:
            url = _start_pgserver(pgserver, path)
        _servers[path] = url
        return url


def _start_pgserver(pgserver: object, path: Path) -> str:
    # pgserver keeps a per-data-dir list of the processes using the server and stops
    # it when the last one exits, so the API, Dagster and the CLI can share it.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        server = pgserver.get_server(path, cleanup_mode="stop")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - pgserver raises plain exceptions
        log_file = path / "log"
        detail = log_file.read_text()[-2000:] if log_file.exists() else str(exc)
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {path}: {detail}"
        ) from exc
    _handles[path] = server
    socket_dir = server.get_postmaster_info().socket_dir  # type: ignore[attr-defined]
    return f"postgresql+psycopg://postgres:@/postgres?host={socket_dir}"


def _find_pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _start_from_path(path: Path) -> str:
    """Fallback without pgserver: initdb/pg_ctl from a PostgreSQL on this machine."""
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        raise EmbeddedDatabaseError(
            "database.url is empty, so SmartCrop would start its own PostgreSQL, but "
            "the pgserver package is not available for this Python and no pg_ctl was "
            "found on the PATH. Install PostgreSQL, or set database.url "
            "(DATABASE__URL) to a server you run."
        )
    run_as = _server_user()
    path.mkdir(parents=True, exist_ok=True)
    if run_as is not None:
        os.chown(path, run_as.pw_uid, run_as.pw_gid)
    if not (path / "PG_VERSION").exists():
        _run_pg(
            [str(bin_dir / "initdb"), "-D", str(path), "-U", "postgres"]
            + ["--auth=trust", "--encoding=UTF8"],
            run_as,
        )
    if _run_pg(
        [str(bin_dir / "pg_ctl"), "-D", str(path), "status"], run_as, check=False
    ):
        _run_pg(
            [str(bin_dir / "pg_ctl"), "-D", str(path), "-w", "-l", str(path / "log")]
            + ["-o", f"-h '' -k {path}", "start"],
            run_as,
        )
        atexit.register(
            _run_pg,
            [str(bin_dir / "pg_ctl"), "-D", str(path), "-m", "fast", "stop"],
            run_as,
            False,
        )
    return f"postgresql+psycopg://postgres:@/postgres?host={path}"


def _server_user() -> pwd.struct_passwd | None:
    # PostgreSQL refuses to run as root; borrow the distribution's postgres user.
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise EmbeddedDatabaseError(
            "running as root needs a 'postgres' system user to own the embedded server"
        ) from exc


def _run_pg(
    args: list[str], run_as: pwd.struct_passwd | None, check: bool = True
) -> int:
    kwargs: dict[str, object] = {}
    if run_as is not None:
        kwargs = {"user": run_as.pw_uid, "group": run_as.pw_gid}
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        args, capture_output=True, text=True, check=False, **kwargs
    )
    if check and result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"{Path(args[0]).name} failed: {result.stderr.strip()[-1000:]}"
        )
    return result.returncode
