"""Shared fixtures: tiny synthetic data sets so unit tests run in seconds on 2 CPU cores."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.data import make_dataset

SHAPES = {"8x8 grey": (1, 8, 8), "28x28 grey": (1, 28, 28), "32x32 RGB": (3, 32, 32)}


def synthetic_images(n: int, shape: tuple[int, int, int], seed: int = 0, classes: int = 3):
    """Blobs whose position depends on the class: learnable structure, made in microseconds."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    labels = rng.integers(0, classes, n)
    yy, xx = np.mgrid[0:h, 0:w]
    centres_x = (labels + 1) * w / (classes + 1) + rng.normal(0, 0.5, n)
    centres_y = h / 2 + rng.normal(0, h / 8, n)
    blobs = np.exp(-((xx[None] - centres_x[:, None, None]) ** 2 + (yy[None] - centres_y[:, None, None]) ** 2) / (h / 4))
    images = np.repeat(blobs[:, None], c, axis=1) * np.linspace(1, 0.6, c)[None, :, None, None]
    return np.clip(images, 0, 1).astype(np.float32), labels


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """Tests never touch the network or the user's data cache."""
    monkeypatch.setenv("EXPLORER_OFFLINE", "1")
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path_factory.mktemp("data-cache")))


@pytest.fixture
def tiny_dataset():
    """Factory: a small labelled data set of a given (C, H, W) shape."""

    def make(shape=(1, 8, 8), n=64, classes=3, seed=0):
        images, labels = synthetic_images(n, shape, seed, classes)
        return make_dataset(f"tiny{shape}", images, labels)

    return make
