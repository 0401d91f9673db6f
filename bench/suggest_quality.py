"""Benchmark: how often the suggested crop keeps the known faces, per aspect ratio.

    .venv/bin/python -m bench.suggest_quality [--smoke] [--seed N]

The test set is seeded: drawn scenes (``smartcrop.suggest.scenes``) with one or two
faces at random places and sizes in landscape, portrait, square and panorama images,
every face placed so that a box of every ratio *can* keep all of them; plus the demo's
photograph of Eileen Collins with her face marked by hand. For each image and ratio
the engine's box is checked: a face is kept when its whole head box lies inside.

Baseline: the largest centred box of each ratio (what a crop with no analysis gives).
Target: 100% of the known faces kept, for every ratio. Also reported: how many faces
the detector found (recall), the methods used, and the analysis time per image.
Writes ``bench/results/suggest_quality.json`` and ``.md`` (``bench.harness.results``).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from bench.harness.cli import log, parse_args
from bench.harness.paths import REPO_ROOT
from bench.harness.results import (
    Target,
    all_met,
    machine_info,
    summary_line,
    write_result,
)
from samples.demo import scenes
from smartcrop.lookups import ASPECT_RATIOS
from smartcrop.suggest import boxes, engine
from smartcrop.suggest.boxes import Box

NAME = "suggest_quality"
ASTRONAUT = REPO_ROOT / "samples" / "demo" / "images" / "astronaut.jpg"
ASTRONAUT_FACE = Box(176, 70, 96, 100)  # forehead to chin, marked by hand
SHAPES = (
    (1920, 1080),
    (1280, 720),
    (1000, 1500),
    (1200, 1800),
    (1200, 1200),
    (3000, 1000),
    (2048, 1152),
)


def _narrowest_box(width: int, height: int) -> tuple[int, int]:
    """The smallest width and height a box of any ratio has in this image."""
    sizes = [
        boxes.largest_size(width, height, r.width, r.height) for r in ASPECT_RATIOS
    ]
    return min(s[0] for s in sizes if s), min(s[1] for s in sizes if s)


def drawn_set(count: int, seed: int) -> list[scenes.Scene]:
    """``count`` scenes, each of whose faces every ratio's box can keep together."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    found: list[scenes.Scene] = []
    while len(found) < count:
        width, height = SHAPES[rng.randrange(len(SHAPES))]
        box_w, box_h = _narrowest_box(width, height)
        pair = rng.random() < 0.3
        # Big enough for the detector at analysis size, small enough for every box.
        low = max(80, round(0.09 * min(width, height)))
        high = round(min(box_h / 1.6, box_w / (2.4 if pair else 1.2)))
        if high <= low:
            continue
        size = rng.randrange(low, high)
        head_h = 1.3 * size
        cy = rng.uniform(0.75 * size, height - 0.75 * size - 0.1 * head_h)
        if pair:
            gap = rng.uniform(0.15, 0.3) * size
            span = 2 * size + gap
            left = rng.uniform(0.05 * size, width - span - 0.05 * size)
            second_y = cy + rng.uniform(-0.1, 0.1) * size
            centres = [
                ((left + size / 2) / width, cy / height),
                ((left + 1.5 * size + gap) / width, second_y / height),
            ]
        else:
            cx = rng.uniform(0.55 * size, width - 0.55 * size)
            centres = [(cx / width, cy / height)]
        scene = scenes.face_scene(
            width,
            height,
            centres,
            size,
            seed=rng.randrange(1 << 30),
            name=f"drawn-{len(found):03d}-{width}x{height}-{len(centres)}f",
        )
        found.append(scene)
    return found


def photo_set() -> list[scenes.Scene]:
    with Image.open(ASTRONAUT) as image:
        image.load()
        return [scenes.Scene(image.copy(), faces=[ASTRONAUT_FACE], name="astronaut")]


def _iou(a: Box, b: Box) -> float:
    shared = a.overlap(b)
    return shared / (a.area + b.area - shared) if shared else 0.0


def measure(test_set: Sequence[scenes.Scene]) -> dict[str, Any]:
    kept: Counter[str] = Counter()
    baseline_kept: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    missed: list[dict[str, Any]] = []
    faces_total = detected = 0
    seconds: list[float] = []
    for scene in test_set:
        start = time.perf_counter()
        analysis = engine.analyse(scene.image)
        suggestions = engine.suggest(analysis)
        seconds.append(time.perf_counter() - start)
        faces_total += len(scene.faces)
        detected += sum(
            1
            for face in scene.faces
            if any(_iou(face, found.box) >= 0.3 for found in analysis.faces)
        )
        grid = scene.image.size
        for suggestion in suggestions:
            methods[suggestion.method] += 1
            inside = sum(1 for face in scene.faces if suggestion.box.contains(face))
            kept[suggestion.aspect_ratio] += inside
            ratio = next(r for r in ASPECT_RATIOS if r.id == suggestion.aspect_ratio_id)
            size = boxes.largest_size(*grid, ratio.width, ratio.height)
            assert size is not None
            centred = boxes.place(size, grid)
            baseline_kept[ratio.title] += sum(
                1 for face in scene.faces if centred.contains(face)
            )
            if inside < len(scene.faces):
                missed.append(
                    {
                        "image": scene.name,
                        "ratio": ratio.title,
                        "box": list(vars_of(suggestion.box)),
                        "faces": [list(vars_of(face)) for face in scene.faces],
                        "method": suggestion.method,
                    }
                )
    per_ratio = {
        r.title: {
            "kept": round(kept[r.title] / faces_total, 4),
            "baseline_centre": round(baseline_kept[r.title] / faces_total, 4),
        }
        for r in ASPECT_RATIOS
    }
    return {
        "images": len(test_set),
        "faces": faces_total,
        "detected": detected,
        "per_ratio": per_ratio,
        "methods": dict(sorted(methods.items())),
        "seconds_per_image_median": round(statistics.median(seconds), 3),
        "seconds_per_image_max": round(max(seconds), 3),
        "missed": missed[:20],
    }


def vars_of(box: Box) -> tuple[int, int, int, int]:
    return box.x, box.y, box.width, box.height


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    count = 8 if args.smoke else 60
    log(f"{NAME}: drawing {count} scenes (seed {args.seed}) + 1 photograph")
    test_set = [*drawn_set(count, args.seed), *photo_set()]
    result = measure(test_set)
    overall = sum(v["kept"] for v in result["per_ratio"].values()) / len(ASPECT_RATIOS)
    baseline = sum(v["baseline_centre"] for v in result["per_ratio"].values()) / len(
        ASPECT_RATIOS
    )
    targets = [
        Target(f"faces kept, {title}", values["kept"], 1.0, "min")
        for title, values in result["per_ratio"].items()
    ]
    payload = {
        "metric": "Share of known faces whose whole head lies inside the suggested "
        "box, per aspect ratio (drawn scenes with faces anywhere, and a photograph); "
        "baseline: the largest centred box.",
        "project": round(overall, 4),
        "baseline": round(baseline, 4),
        "ratio": round(overall / baseline, 3) if baseline else None,
        "project_headline": f"{overall:.1%} of faces kept",
        "baseline_headline": f"{baseline:.1%} kept by a centred crop",
        "targets": [t.as_dict() for t in targets],
        "met": all_met(targets),
        "runs": 1,
        "seed": args.seed,
        "smoke": args.smoke,
        "machine": machine_info(None),
        **result,
        "note": "Quality, not speed: one deterministic run (seeded scenes) is the "
        "measurement. Times are for analysis only (no download), on this machine.",
    }
    table = [
        ("ratio", "faces kept", "centred box keeps"),
        *(
            (title, f"{v['kept']:.1%}", f"{v['baseline_centre']:.1%}")
            for title, v in result["per_ratio"].items()
        ),
        ("all", f"{overall:.1%}", f"{baseline:.1%}"),
    ]
    detector = [
        ("images", "known faces", "detected", "methods", "s/image (median, max)"),
        (
            str(result["images"]),
            str(result["faces"]),
            str(result["detected"]),
            ", ".join(f"{k} {v}" for k, v in result["methods"].items()),
            f"{result['seconds_per_image_median']}, {result['seconds_per_image_max']}",
        ),
    ]
    written = write_result(
        Path(args.results_dir), NAME, payload, table, {"The test set": detector}
    )
    log(
        f"{NAME}: {result['detected']}/{result['faces']} faces detected; "
        f"methods {result['methods']}; {result['seconds_per_image_median']} s/image; "
        f"results in {args.results_dir}"
    )
    print(summary_line(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
