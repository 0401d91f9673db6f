"""Drawn scenes whose faces and subjects are known: for the tests, the benchmark and
the demo images (``samples/demo/make_demo.py``).

The faces are drawn (Pillow only) the way OpenCV's frontal-face cascades see faces:
a light oval with darker eye sockets, brows and eyes, a lighter nose bridge and a
mouth; softened by a blur like any photograph. ``Scene.faces`` holds each head's box
(forehead to chin, ear to ear): what a crop must keep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

from smartcrop.suggest.boxes import Box

SKIN_TONES = ((224, 172, 140), (198, 134, 96), (141, 85, 54), (240, 200, 170))
HAIR = ((70, 45, 30), (30, 25, 20), (150, 110, 60), (110, 110, 110))


@dataclass
class Scene:
    image: Image.Image
    faces: list[Box] = field(default_factory=list)
    subject: Box | None = None  # a face-less subject (an object off the centre)
    name: str = ""


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, round(c * factor))) for c in colour)
    return r, g, b


def backdrop(
    width: int, height: int, seed: int = 0, colours: tuple[tuple[int, ...], ...] = ()
) -> Image.Image:
    """A soft vertical gradient with faint texture, like a studio backdrop."""
    rng = random.Random(seed)  # noqa: S311 - pictures, not secrets
    top, bottom = colours or (
        (rng.randrange(40, 120), rng.randrange(60, 140), rng.randrange(90, 180)),
        (rng.randrange(20, 80), rng.randrange(30, 90), rng.randrange(40, 120)),
    )
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), bottom[:3]),
        Image.new("RGB", (width, height), top[:3]),
        gradient,
    )
    grain = rng.randbytes(width * height)
    noise = Image.frombytes("L", (width, height), grain).convert("RGB")
    return Image.blend(image, noise, 0.03).convert("RGBA")


def draw_face(
    image: Image.Image,
    centre: tuple[int, int],
    size: int,
    *,
    skin: tuple[int, int, int] = SKIN_TONES[0],
    hair: tuple[int, int, int] | None = HAIR[0],
) -> Box:
    """Draw a face of width ``size`` centred at ``centre`` (eye level a little above
    it) onto an RGBA ``image``; answer the head's box."""
    cx, cy = centre
    s = size
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    head = Box(round(cx - 0.5 * s), round(cy - 0.62 * s), s, round(1.30 * s))
    draw.ellipse([head.x, head.y, head.right, head.bottom], fill=skin)
    if hair is not None:
        draw.chord(
            [cx - 0.52 * s, cy - 0.72 * s, cx + 0.52 * s, cy - 0.05 * s],
            180,
            360,
            fill=hair,
        )
    for side in (-1, 1):
        ex = cx + side * 0.21 * s
        draw.ellipse(
            [ex - 0.16 * s, cy - 0.16 * s, ex + 0.16 * s, cy + 0.06 * s],
            fill=_shade(skin, 0.75),
        )
        draw.rectangle(
            [ex - 0.15 * s, cy - 0.21 * s, ex + 0.15 * s, cy - 0.16 * s],
            fill=(60, 40, 28),
        )
        draw.ellipse(
            [ex - 0.10 * s, cy - 0.09 * s, ex + 0.10 * s, cy + 0.01 * s],
            fill=(235, 235, 235),
        )
        draw.ellipse(
            [ex - 0.045 * s, cy - 0.085 * s, ex + 0.045 * s, cy + 0.005 * s],
            fill=(35, 25, 20),
        )
    draw.polygon(
        [
            (cx - 0.03 * s, cy - 0.05 * s),
            (cx - 0.09 * s, cy + 0.22 * s),
            (cx + 0.09 * s, cy + 0.22 * s),
            (cx + 0.03 * s, cy - 0.05 * s),
        ],
        fill=_shade(skin, 1.08),
    )
    draw.ellipse(
        [cx - 0.10 * s, cy + 0.17 * s, cx + 0.10 * s, cy + 0.25 * s],
        fill=_shade(skin, 0.7),
    )
    draw.chord(
        [cx - 0.20 * s, cy + 0.30 * s, cx + 0.20 * s, cy + 0.46 * s],
        0,
        180,
        fill=(150, 60, 60),
    )
    layer = layer.filter(ImageFilter.GaussianBlur(max(1.0, s / 60)))
    image.alpha_composite(layer)
    return head


def draw_shoulders(image: Image.Image, head: Box, colour: tuple[int, int, int]) -> None:
    """A body below a head: shoulders and a torso down to the image's bottom."""
    draw = ImageDraw.Draw(image)
    top = head.bottom - head.height // 10
    draw.rounded_rectangle(
        [head.x - head.width * 0.7, top, head.right + head.width * 0.7, image.height],
        radius=head.width // 2,
        fill=colour,
    )


def face_scene(
    width: int,
    height: int,
    centres: list[tuple[float, float]],
    size: int,
    *,
    seed: int = 0,
    shoulders: bool = True,
    name: str = "",
) -> Scene:
    """A backdrop with a face of width ``size`` at each centre (fractions of the
    image), each with shoulders below it."""
    rng = random.Random(seed)  # noqa: S311 - pictures, not secrets
    image = backdrop(width, height, seed)
    heads = []
    for fx, fy in centres:
        centre = (round(fx * width), round(fy * height))
        head_box = Box(
            round(centre[0] - 0.5 * size), round(centre[1] - 0.62 * size), size, size
        )
        if shoulders:
            clothes = (rng.randrange(20, 200), rng.randrange(20, 200), 90)
            draw_shoulders(image, head_box, clothes)
        heads.append(
            draw_face(
                image,
                centre,
                size,
                skin=SKIN_TONES[rng.randrange(len(SKIN_TONES))],
                hair=HAIR[rng.randrange(len(HAIR))],
            )
        )
    return Scene(image.convert("RGB"), faces=heads, name=name)


def object_scene(
    width: int,
    height: int,
    subject: tuple[float, float, float],
    *,
    seed: int = 0,
    name: str = "",
) -> Scene:
    """A plain field with one bright round subject: centre (fractions) and diameter
    (fraction of the shorter side). No face."""
    image = backdrop(width, height, seed, ((70, 120, 60), (40, 90, 40)))
    fx, fy, fd = subject
    diameter = round(fd * min(width, height))
    x, y = round(fx * width - diameter / 2), round(fy * height - diameter / 2)
    draw = ImageDraw.Draw(image)
    draw.ellipse([x, y, x + diameter, y + diameter], fill=(215, 35, 40))
    draw.ellipse(
        [
            x + diameter * 0.2,
            y + diameter * 0.15,
            x + diameter * 0.4,
            y + diameter * 0.3,
        ],
        fill=(250, 170, 160),
    )
    draw.line(
        [(x + diameter / 2, y + diameter), (x + diameter / 2, y + diameter * 1.8)],
        fill=(240, 240, 240),
        width=max(2, diameter // 40),
    )
    return Scene(
        image.convert("RGB"),
        subject=Box(x, y, diameter, diameter),
        name=name,
    )


def flat_scene(width: int, height: int, name: str = "") -> Scene:
    """Nothing to see: one plain colour."""
    return Scene(Image.new("RGB", (width, height), (118, 124, 130)), name=name)
