"""Attributes measured from a grey image's pixels, independent of any model: how much ink it has, how slanted it is.

They score what a latent attribute vector does: decode, measure, compare."""

from __future__ import annotations

import numpy as np


def _grey(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) in [0, 1] -> (N, H, W) float64, channels averaged."""
    images = np.asarray(images, np.float64)
    return images.mean(axis=1) if images.ndim == 4 else images


def ink(images: np.ndarray) -> np.ndarray:
    """(N,) the mean intensity: thick strokes hold more ink than thin ones of the same shape."""
    return _grey(images).mean(axis=(1, 2))


def slant(images: np.ndarray) -> np.ndarray:
    """(N,) how far the strokes lean right as they go up: the ink's x-shift per pixel of height (its second-moment
    shear, as in MNIST's deskewing). 0 upright, positive leaning right, negative leaning left."""
    grey = _grey(images)
    n, h, w = grey.shape
    up = (h - 1 - np.arange(h, dtype=np.float64))[None, :, None]  # rows counted from the bottom: y grows upward
    right = np.arange(w, dtype=np.float64)[None, None, :]
    mass = grey.sum(axis=(1, 2)).clip(min=1e-9)
    x_mean = (grey * right).sum(axis=(1, 2)) / mass
    y_mean = (grey * up).sum(axis=(1, 2)) / mass
    dx, dy = right - x_mean[:, None, None], up - y_mean[:, None, None]
    return (grey * dx * dy).sum(axis=(1, 2)) / (grey * dy * dy).sum(axis=(1, 2)).clip(min=1e-9)


MEASURES = {"ink": ink, "slant": slant}  # attribute name -> its pixel measure

QUARTER = 0.25  # ready-made groups: the quarter of images with the most of an attribute, and the quarter with the least


def quarters(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the quarter of images with the most of a measured attribute, and of the quarter with the least."""
    low, high = np.quantile(values, [QUARTER, 1 - QUARTER])
    return np.flatnonzero(values >= high), np.flatnonzero(values <= low)
