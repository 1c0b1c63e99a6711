"""Sprites: white shapes on black, drawn from five known factors (shape, scale, rotation, x, y) in the style of
DeepMind's dSprites, smaller so a CPU trains on them in a minute. Deterministic from a seed: every image is made
from its drawn factors when the data set is loaded, so nothing ships but this file."""

from __future__ import annotations

import numpy as np

SHAPES = ("square", "ellipse", "heart")
SIDE = 32
COUNT = 10_000  # images: 8,000 to train on, 2,000 to test
SCALE = (0.5, 1.0)  # the shape's half-size, as a share of MAX_RADIUS
ROTATION = (-40.0, 40.0)  # degrees: a square turned by +-45 is the same picture, so the range stops short of it
POSITION = (0.27, 0.73)  # the centre, as a share of the side: the largest shape still fits at the edges
MAX_RADIUS = 0.22  # the largest half-size, as a share of the side
FACTORS = ("shape", "scale", "rotation", "x", "y")  # x grows rightward, y upward
UNITS = {"scale": "share of the largest size", "rotation": "degrees", "x": "share of the width from the left",
         "y": "share of the height from the bottom"}  # x, y: where the centre is
_OVERSAMPLE = 4  # each pixel averages 4x4 samples: grey, anti-aliased edges


def draw_factors(count: int = COUNT, seed: int = 0) -> dict[str, np.ndarray]:
    """Each image's factors, drawn independently and uniformly: shape as an index into SHAPES, the rest as values."""
    rng = np.random.default_rng(seed)
    return {
        "shape": rng.integers(len(SHAPES), size=count),
        "scale": rng.uniform(*SCALE, size=count),
        "rotation": rng.uniform(*ROTATION, size=count),
        "x": rng.uniform(*POSITION, size=count),
        "y": rng.uniform(*POSITION, size=count),
    }


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether shape-local points (u, v), in units of the half-size, lie inside the shape."""
    if SHAPES[shape] == "square":
        return (np.abs(u) <= 0.85) & (np.abs(v) <= 0.85)
    if SHAPES[shape] == "ellipse":
        return u**2 + (v / 0.6) ** 2 <= 1.0
    hu, hv = u * 1.15, v * 1.15 + 0.15  # the heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, centred on its ink
    return (hu**2 + hv**2 - 1) ** 3 <= hu**2 * hv**3


def draw(factors: dict[str, np.ndarray], batch: int = 500) -> np.ndarray:
    """(N, SIDE, SIDE) uint8 images of these factors, a batch at a time (the oversampled grid is large)."""
    fine = ((np.arange(SIDE * _OVERSAMPLE) + 0.5) / (SIDE * _OVERSAMPLE)).astype(np.float32)  # sample centres
    gx, gy = fine[None, None, :], 1 - fine[None, :, None]  # y grows upward, as the factor does
    out = np.empty((len(factors["shape"]), SIDE, SIDE), np.uint8)
    for shape in range(len(SHAPES)):
        rows = np.flatnonzero(factors["shape"] == shape)
        for start in range(0, len(rows), batch):
            part = {name: values[rows[start : start + batch], None, None].astype(np.float32)
                    for name, values in factors.items() if name != "shape"}
            radius = part["scale"] * MAX_RADIUS
            angle = np.deg2rad(part["rotation"])
            cos, sin = np.cos(angle) / radius, np.sin(angle) / radius
            dx, dy = gx - part["x"], gy - part["y"]
            u, v = cos * dx + sin * dy, cos * dy - sin * dx  # into the shape's own frame: undo the rotation
            ink = _inside(shape, u, v).astype(np.float32)
            n = ink.shape[0]
            coarse = ink.reshape(n, SIDE, _OVERSAMPLE, SIDE, _OVERSAMPLE).mean(axis=(2, 4))
            out[rows[start : start + n]] = np.rint(coarse * 255)
    return out


def render(count: int = COUNT, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The images and their factors."""
    factors = draw_factors(count, seed)
    return draw(factors), factors
