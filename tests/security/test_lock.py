"""The lock files pin every package with hashes and agree with pyproject.toml.

Issue 15: two installs a week apart must be the same program, and nothing unchecked is
downloaded. `make` installs from requirements/*.txt with --require-hashes; these tests
fail when someone changes a pin in pyproject.toml without `make lock`, declares a
package nothing uses, or edits the Dockerfile's install away from the lock.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
REQS = REPO / "requirements"
PRODUCTION = ("smartcrop", "smartcrop_cli", "api", "assets", "resources", "pipelines")

# Declared packages used without an import statement, each with where it is used.
USED_WITHOUT_IMPORT = {
    "dagster-webserver": "the dagster-webserver program (smartcrop up, compose)",
    "dagster-postgres": "deploy/dagster.yaml's `storage: postgres`",
    "pytest-xdist": "pytest -n 2 in the Makefile",
    "moto": "python -m moto.server in tests/support/s3_server.py",
    "ruff": "make lint",
    "mypy": "make lint",
    "types-pyyaml": "make lint (mypy's stubs for yaml)",
    "types-paramiko": "make lint (mypy's stubs for paramiko)",
    "types-openpyxl": "make lint (mypy's stubs for openpyxl)",
    "uv": "make lock",
}


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def declared(extra: str | None = None) -> list[Requirement]:
    project = pyproject()["project"]
    given = (
        project["optional-dependencies"][extra] if extra else project["dependencies"]
    )
    return [Requirement(line) for line in given]


def locked(name: str) -> dict[str, str]:
    """{canonical name: version} of a lock file; asserts each entry has hashes."""
    text = (REQS / name).read_text()
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S)", text):
        if entry.startswith("#") or not entry.strip():
            continue
        head = entry.split(" \\", 1)[0].split(";", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==(\S+)", head)
        assert match, f"{name}: not an exact pin: {head!r}"
        assert "--hash=sha256:" in entry, f"{name}: {head} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(3)
    return pins


def pinned_version(requirement: Requirement) -> str:
    (spec,) = requirement.specifier
    assert spec.operator == "==", f"{requirement} is not pinned exactly"
    return spec.version


def test_every_entry_of_every_lock_is_pinned_with_hashes() -> None:
    assert len(locked("dev.txt")) > 150  # the transitive packages are all there
    assert len(locked("runtime.txt")) > 100
    assert {"pip", "setuptools", "wheel"} <= set(locked("build.txt"))


def test_the_locks_hold_exactly_what_pyproject_pins() -> None:
    dev, runtime = locked("dev.txt"), locked("runtime.txt")
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert runtime.get(name) == pinned_version(requirement), (
            f"{requirement} is not what requirements/runtime.txt holds: run make lock"
        )
        assert dev.get(name) == pinned_version(requirement), requirement
    for requirement in declared("dev"):
        name = canonicalize_name(requirement.name)
        assert dev.get(name) == pinned_version(requirement), (
            f"{requirement} is not what requirements/dev.txt holds: run make lock"
        )
    # The image runs the versions the tests ran.
    assert {n: v for n, v in dev.items() if n in runtime} == runtime
    # The build backend installed before the project is the one pyproject names.
    build = locked("build.txt")
    for line in pyproject()["build-system"]["requires"]:
        requirement = Requirement(line)
        assert build[canonicalize_name(requirement.name)] == pinned_version(requirement)


def imported_modules(folders: tuple[str, ...]) -> set[str]:
    def files() -> Iterator[Path]:
        for folder in folders:
            yield from (REPO / folder).rglob("*.py")

    modules: set[str] = set()
    for path in files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules


def test_no_declared_package_goes_unused() -> None:
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(canonicalize_name(distribution), set()).add(
                module
            )
    production = imported_modules(PRODUCTION)
    everywhere = production | imported_modules(("tests", "bench"))
    unused = []
    for requirement, used in [(r, production) for r in declared()] + [
        (r, everywhere) for r in declared("dev")
    ]:
        name = canonicalize_name(requirement.name)
        if name in USED_WITHOUT_IMPORT:
            continue
        if not by_distribution.get(name, set()) & used:
            unused.append(requirement.name)
    assert not unused, f"declared but never imported: {unused}"


def test_the_image_installs_from_the_locks_with_hash_checking() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n&]+)", dockerfile)
    assert installs == [
        "--require-hashes -r requirements/build.txt",
        "--require-hashes -r requirements/runtime.txt",
        "--no-deps --no-build-isolation . ",
    ]
    makefile = (REPO / "Makefile").read_text()
    assert "--require-hashes -r requirements/build.txt" in makefile
    assert "--require-hashes -r requirements/dev.txt" in makefile


@pytest.mark.needs_index
def test_a_fresh_install_from_the_runtime_lock_imports_and_checks(
    tmp_path: Path,
) -> None:
    """The Dockerfile's three installs, in a new venv: the runtime lock is complete."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")

    def pip(*args: str) -> None:
        result = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stderr[-3000:]

    pip("--require-hashes", "-r", "requirements/build.txt")
    pip("--require-hashes", "-r", "requirements/runtime.txt")
    # Built from a copy: a build in the checkout would leave build/ and egg-info behind.
    source = tmp_path / "src"
    _copy_sources(source)
    pip("--no-deps", "--no-build-isolation", str(source))
    check = subprocess.run(
        [python, "-m", "pip", "check"], capture_output=True, text=True, cwd=tmp_path
    )
    assert check.returncode == 0, check.stdout
    imports = subprocess.run(
        [python, "-c", "import api.app, pipelines.definitions, smartcrop_cli.main"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert imports.returncode == 0, imports.stderr[-3000:]
    # Nothing of the dev set came along.
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pytest==" not in listing and "moto==" not in listing


def _copy_sources(target: Path) -> None:
    names = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in names:
        # Untracked files too (a new module not yet committed); deleted ones not.
        wanted = name.split("/")[0] in (*PRODUCTION, "pyproject.toml", "README.md")
        if wanted and (REPO / name).is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes((REPO / name).read_bytes())
