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


def _extent(mass: np.ndarray, middle: float = 0.9) -> np.ndarray:
    """(N,) the ink's extent in pixels along an axis, from its (N, L) profile of column or row sums: the span of its
    middle 90%, scaled to the whole (a uniform bar of width w gives w). Robust to a stray faint pixel, and smooth
    on a decoder's blurred edges, where a threshold box jumps."""
    edges = np.arange(mass.shape[1] + 1, dtype=np.float64)  # pixel i covers [i, i + 1)
    cumulative = np.concatenate([np.zeros((mass.shape[0], 1)), np.cumsum(mass, axis=1)], axis=1)
    shares = cumulative / cumulative[:, -1:].clip(min=1e-9)
    tail = (1 - middle) / 2
    spans = [np.interp(1 - tail, row, edges) - np.interp(tail, row, edges) for row in shares]
    return np.asarray(spans) / middle * (cumulative[:, -1] > 0)  # a blank image has no extent


def width(images: np.ndarray) -> np.ndarray:
    """(N,) the ink's width in pixels (the middle 90% of it, left to right)."""
    return _extent(_grey(images).sum(axis=1))


def height(images: np.ndarray) -> np.ndarray:
    """(N,) the ink's height in pixels (the middle 90% of it, top to bottom)."""
    return _extent(_grey(images).sum(axis=2))


MEASURES = {"ink": ink, "slant": slant, "width": width, "height": height}  # attribute name -> its pixel measure
UNITS = {"ink": "mean pixel brightness, 0 to 1", "slant": "pixels rightward per pixel upward", "width": "pixels",
         "height": "pixels"}

QUARTER = 0.25  # ready-made groups: the quarter of images with the most of an attribute, and the quarter with the least


def quarters(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the quarter of images with the most of a measured attribute, and of the quarter with the least."""
    low, high = np.quantile(values, [QUARTER, 1 - QUARTER])
    return np.flatnonzero(values >= high), np.flatnonzero(values <= low)


def quarters_within(values: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The quarter with the most and the quarter with the least, taken within each class and pooled: a measure that
    differs between classes (a W is wider than an i) then gives a vector of the measure, not of the class."""
    if labels is None:
        return quarters(values)
    most, least = [], []
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        high, low = quarters(values[where])
        most.append(where[high])
        least.append(where[low])
    return np.sort(np.concatenate(most)), np.sort(np.concatenate(least))
