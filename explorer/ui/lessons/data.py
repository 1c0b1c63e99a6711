"""What the lessons draw, computed once per server from the bundled models (keyed by their weights) and shared by
every visitor: none of it depends on a visitor's choices."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.checkpoint import Checkpoint, known_checkpoints
from explorer.config import ScoreConfig
from explorer.data import ImageDataset
from explorer.history import History, history_path, load_history
from explorer.latent import DENSITY_CELLS, Latents, aggregate_density, density_grid
from explorer.lessons import autoencoder, extremes, forming, paths, sampling, unusual, vectors
from explorer.lessons.common import typical_row
from explorer.ui import resources
from explorer.vectors import class_reader

DATA, GLYPH_DATA = "mnist5k", "glyphs"
VAE_2D, VAE_16D, GLYPHS = "mnist5k-z2", "mnist5k-z16", "glyphs-z16"
PAIRS = ((16, "mnist5k-ae-z16", "mnist5k-z16"), (2, "mnist5k-ae-z2", "mnist5k-z2"))  # (latent size, AE, VAE)
BETAS = ("mnist5k-z2-beta0", "mnist5k-z2", "mnist5k-z2-beta50")  # β 0, 1 and 50, the same network and data
NEEDED = tuple(dict.fromkeys((VAE_2D, VAE_16D, GLYPHS, *(n for _, *pair in PAIRS for n in pair), *BETAS)))


def missing() -> list[str]:
    """The bundled models the lessons need that this server lacks (none, unless files were removed)."""
    return [name for name in NEEDED if name not in known_checkpoints()]


def model(name: str) -> Checkpoint:
    return resources.server_model(name, known_checkpoints()[name].stat().st_mtime)


def dataset() -> ImageDataset:
    return resources.shared_dataset(DATA)


def glyphs() -> ImageDataset:
    return resources.shared_dataset(GLYPH_DATA)


def latents(name: str) -> Latents:
    return resources.latents(model(name), glyphs() if name == GLYPHS else dataset(), "test")


def history(name: str) -> History | None:
    checkpoint = model(name)
    return _history(checkpoint.fingerprint, name)


@st.cache_resource(show_spinner=False, max_entries=4)
def _history(weights: str, name: str) -> History | None:
    return load_history(history_path(known_checkpoints()[name]), fingerprint=weights)


def _cached(function):
    """A lesson's computation, once per server and the weights of the models it reads."""
    return st.cache_resource(show_spinner=False, max_entries=2)(function)


@_cached
def bubble(weights: str, label: int) -> sampling.BubbleDraws:
    found = latents(VAE_16D)
    return sampling.bubble_draws(model(VAE_16D).model, found, typical_row(found, label))


@_cached
def reach(weights: str) -> tuple[sampling.PriorReach, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Prior samples against the 2-D model's encoded data, and q(z) on a grid (xs, ys, density) to draw them over."""
    found = latents(VAE_2D)
    xs, ys = density_grid(found.mu, found.logvar, DENSITY_CELLS)
    return (sampling.prior_reach(model(VAE_2D).model, found, dataset().num_classes),
            (xs, ys, aggregate_density(found.mu, found.logvar, xs, ys)))


@_cached
def pairs(weights: tuple[str, ...]) -> list[tuple[int, autoencoder.Side, autoencoder.Side]]:
    classes, reader = dataset().num_classes, resources.reader(dataset())
    return [(dim, *(autoencoder.side(n, model(n).model, latents(n), classes, reader) for n in (ae, vae)))
            for dim, ae, vae in PAIRS]


@_cached
def betas(weights: tuple[str, ...]) -> list[extremes.Extreme] | None:
    found = [history(name) for name in BETAS]
    if any(h is None or h.logvar is None for h in found):
        return None
    return [extremes.extreme(name, model(name), latents(name), h) for name, h in zip(BETAS, found)]


@_cached
def stages(weights: str) -> list[forming.Stage] | None:
    found = history(VAE_2D)
    return None if found is None else forming.stages(found)


@_cached
def path_lesson(weights: str) -> paths.PathLesson:
    return paths.path_lesson(model(VAE_16D).model, latents(VAE_16D), class_reader(resources.reader(dataset())))


@st.cache_resource(show_spinner=False, max_entries=len(vectors.ATTRIBUTES))
def vector_lesson(weights: str, attribute: str) -> vectors.VectorLesson:
    found = glyphs()
    return vectors.vector_lesson(model(GLYPHS).model, found, latents(GLYPHS), resources.reader(found), attribute)


@_cached
def verdicts(weights: str) -> unusual.Verdicts:
    checkpoint, data, found = model(VAE_16D), dataset(), latents(VAE_16D)
    scores = resources.image_scores(checkpoint, data, "test", ScoreConfig())
    return unusual.verdicts(checkpoint.model, data.images[typical_row(found, 3)], scores)


def fingerprints(*names: str) -> tuple[str, ...]:
    return tuple(model(name).fingerprint for name in names)
