"""Faces, found with the Haar cascades that OpenCV ships inside its wheel.

Nothing is downloaded: the cascade files come with ``opencv-python-headless`` 4.x
(``cv2.data.haarcascades``; the 5.x wheels ship none). Two frontal-face cascades run
on the same equalised grey copy; overlapping finds are merged into one face, and a
face both cascades agree on gets the higher confidence.

A ``CascadeClassifier`` is not safe to share between threads, so each thread keeps its
own (the pipeline analyses several images at once).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import cv2.data
import numpy as np

from smartcrop.suggest.boxes import Box

CASCADES: tuple[str, ...] = (
    "haarcascade_frontalface_default.xml",
    "haarcascade_frontalface_alt2.xml",
)
# Faces smaller than this share of the image's shorter side are ignored: at analysis
# size they are a few pixels of texture, and a crop needs no help to keep them.
MIN_FACE_SHARE = 0.04
MIN_FACE_PIXELS = 20
# Two finds are the same face when they overlap this much (intersection over union).
SAME_FACE_IOU = 0.3

_local = threading.local()


class FaceDetectorUnavailable(RuntimeError):
    """OpenCV's cascade files are missing (a 5.x wheel, or a broken install)."""


@dataclass(frozen=True, slots=True)
class Face:
    box: Box
    confidence: float  # the share of the cascades that found it (0.5 or 1.0)


def cascade_dir() -> Path:
    return Path(cv2.data.haarcascades)


def _classifiers() -> list[cv2.CascadeClassifier]:
    found: list[cv2.CascadeClassifier] | None = getattr(_local, "classifiers", None)
    if found is None:
        found = []
        for name in CASCADES:
            path = cascade_dir() / name
            classifier = cv2.CascadeClassifier(str(path))
            if classifier.empty():
                raise FaceDetectorUnavailable(
                    f"OpenCV's {name} is missing from {cascade_dir()}: install "
                    "opencv-python-headless 4.x, whose wheel ships the Haar cascades"
                )
            found.append(classifier)
        _local.classifiers = found
    return found


def _iou(a: Box, b: Box) -> float:
    shared = a.overlap(b)
    return shared / (a.area + b.area - shared) if shared else 0.0


def detect_faces(grey: np.ndarray) -> list[Face]:
    """The faces in an 8-bit grey image, largest first (boxes in its pixels)."""
    height, width = grey.shape[:2]
    smallest = max(MIN_FACE_PIXELS, round(min(width, height) * MIN_FACE_SHARE))
    if min(width, height) < smallest:
        return []
    equalised = cv2.equalizeHist(np.ascontiguousarray(grey, dtype=np.uint8))
    finds: list[tuple[int, Box]] = []
    for index, classifier in enumerate(_classifiers()):
        detections = classifier.detectMultiScale(
            equalised,
            scaleFactor=1.1,
            minNeighbors=5,
            minSize=(smallest, smallest),
        )
        for x, y, w, h in detections:
            finds.append((index, Box(int(x), int(y), int(w), int(h))))
    groups: list[list[tuple[int, Box]]] = []
    for find in sorted(finds, key=lambda item: -item[1].area):
        for group in groups:
            if any(_iou(find[1], other) >= SAME_FACE_IOU for _, other in group):
                group.append(find)
                break
        else:
            groups.append([find])
    faces = []
    for group in groups:
        boxes = [box for _, box in group]
        x = round(sum(b.x for b in boxes) / len(boxes))
        y = round(sum(b.y for b in boxes) / len(boxes))
        right = round(sum(b.right for b in boxes) / len(boxes))
        bottom = round(sum(b.bottom for b in boxes) / len(boxes))
        cascades = {index for index, _ in group}
        faces.append(
            Face(Box(x, y, right - x, bottom - y), len(cascades) / len(CASCADES))
        )
    return sorted(faces, key=lambda face: -face.box.area)
