"""Profiling with pyinstrument, when it is installed (it is optional)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def profiler_available() -> bool:
    try:
        import pyinstrument  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def maybe_profile(out: Path | None) -> Iterator[None]:
    """Profile the block with pyinstrument into ``out`` (a text report) and
    ``out.with_suffix('.json')`` (the hottest frames), when ``out`` is given."""
    if out is None or not profiler_available():
        yield
        return
    from pyinstrument import Profiler  # noqa: PLC0415

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        session = profiler.last_session
        out.with_suffix(".json").write_text(json.dumps(hot_frames(session), indent=1))


def hot_frames(session: Any, top: int = 15) -> list[dict[str, Any]]:
    """Where the time went: functions by self time (seconds), hottest first."""
    root = session.root_frame() if session is not None else None
    totals: dict[str, float] = {}
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        self_time = frame.total_self_time
        if self_time <= 0:
            continue
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        totals[where] = totals.get(where, 0.0) + self_time
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"frame": name, "self_seconds": round(sec, 3)} for name, sec in ranked]
