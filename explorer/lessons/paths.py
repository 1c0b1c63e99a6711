"""Lesson c: the path between a 3 and an 8. Every step decodes to a digit because every step lies among the encoded
images, where the decoder was trained on draws from their bubbles."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.latent import Latents, decode_latents, interpolate
from explorer.lessons.common import position, typical_row
from explorer.neighbours import nearest, neighbour_spacing

STEPS = 10


class Path(NamedTuple):
    """One interpolation, decoded, with the real image nearest each step."""

    method: str  # "linear" or "slerp"
    z: np.ndarray  # (S, D)
    images: np.ndarray  # (S, C, H, W)
    nearest: np.ndarray  # (S,) data rows of the encoded means nearest each step
    distances: np.ndarray  # (S,) how far each step lies from that mean
    read_as: np.ndarray  # (S,) the label the reader reads each decoded step as


class PathLesson(NamedTuple):
    rows: tuple[int, int]  # the typical images at the two ends
    labels: tuple[int, int]
    paths: tuple[Path, ...]
    spacing: float  # median distance between an encoded test image and its nearest neighbour


def path(model, latents: Latents, a: int, b: int, method: str, read_class, steps: int = STEPS) -> Path:
    """read_class: images -> (N,) labels, a judge independent of the model (explorer.vectors.class_reader)."""
    z = interpolate(latents.mu[position(latents, a)], latents.mu[position(latents, b)], steps, method)
    images = decode_latents(model, z)
    distances, where = nearest(latents, z)
    return Path(method, z, images, latents.index[where[:, 0]], distances[:, 0], read_class(images))


def path_lesson(model, latents: Latents, read_class, start: int = 3, end: int = 8, steps: int = STEPS) -> PathLesson:
    """From the typical `start` to the typical `end` (labels), on a straight line and on the arc."""
    a, b = typical_row(latents, start), typical_row(latents, end)
    paths = tuple(path(model, latents, a, b, method, read_class, steps) for method in ("linear", "slerp"))
    return PathLesson((a, b), (start, end), paths, neighbour_spacing(latents))


def path_caption(lesson: PathLesson, p: Path, label_names: tuple[str, ...], labels: np.ndarray) -> str:
    """labels: the data's label of each row (the nearest images' labels are read from it)."""
    read = " ".join(label_names[i] for i in p.read_as)
    near = " ".join(label_names[i] for i in labels[p.nearest])
    name = {"linear": "The straight line (lerp)", "slerp": "The arc (slerp)"}[p.method]
    return (f"{name}: its steps lie {p.distances.min():.2f} to {p.distances.max():.2f} from the nearest encoded test "
            f"image (under each step), while a test image lies a median {lesson.spacing:.2f} from its nearest "
            f"neighbour. A digit reader (a small network trained on the labels, never on this model) reads the steps "
            f"as {read}; the nearest test images are labelled {near}.")
