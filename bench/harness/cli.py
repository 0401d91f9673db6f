"""The command line every benchmark takes, and progress on stderr."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness.paths import RESULTS_DIR

DEFAULT_SEED = 20261120
DEFAULT_RUNS = 3


def parse_args(
    description: str,
    argv: Sequence[str] | None = None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    # ``python -m bench.NAME`` of a package runs its __main__.py: say NAME instead.
    main = Path(sys.argv[0])
    prog = f"python -m bench.{main.parent.name}" if main.name == "__main__.py" else None
    parser = argparse.ArgumentParser(prog=prog, description=description)
    if extra is not None:
        extra(parser)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data and one run: checks the script works, measures nothing",
    )
    parser.add_argument("--runs", type=int, default=None, help="measured runs (>= 3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where NAME.json and NAME.md go (default bench/results; smoke runs "
        "default to a temporary folder so they never overwrite real results)",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="pyinstrument profile of the project's path: when a target is missed "
        "(auto), every time, or never",
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.smoke else DEFAULT_RUNS
    if args.results_dir is None:
        args.results_dir = (
            Path(tempfile.mkdtemp(prefix="smartcrop-bench-smoke-"))
            if args.smoke
            else RESULTS_DIR
        )
    return args


def log(message: str) -> None:
    """Progress for the person watching (stderr, so stdout stays for results)."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)
