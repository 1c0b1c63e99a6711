"""Server-wide resources shared by every visitor: start-up, bundled data and models, caches keyed by content,
and the cap on concurrent training runs. Nothing here belongs to one visitor."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer import heap
from explorer.attributes import MEASURES
from explorer.budget import MB, SizedCache, refusal
from explorer.checkpoint import Checkpoint, known_checkpoints, load_checkpoint, saved_models_dir
from explorer.compare import PriorFit, prior_fit
from explorer.config import ProjectionConfig, ScoreConfig
from explorer.data import ImageDataset, nouns
from explorer.datafiles import load_dataset
from explorer.disentanglement import Mig, mig
from explorer.embedfile import embedding_path, load_embedding
from explorer.evaluation import Evaluation, evaluate
from explorer.export import latents_csv, projector_zip
from explorer.files import remove_stale_temps
from explorer.latent import Latents, encode_dataset
from explorer.projections import METHODS, Projection, project, warm_up_projections
from explorer.runqueue import RunQueue
from explorer.runtime import configure_threads
from explorer.reader import Reader, reader_for
from explorer.scoring import ImageScores, score_images
from explorer.train import measure_speed
from explorer.traversal import DimensionFactor, dimension_factors
from explorer.vectors import (EXAMPLES, Strip, VectorScore, best_strip, class_reader, measure_for, read_once, scored,
                              typical)
from explorer.ui import uploads

WARM_UP_DELAY_S = 8.0
WARM_UP_DONE = "VAE Latent Explorer: background warm-up done"  # the server log's line when it has finished
DEFAULT_MAX_RUNS = 2  # concurrent training runs per server; $EXPLORER_MAX_RUNS overrides


@st.cache_resource
def start_up() -> int:
    """Once per server process: torch threads (process-wide, so decided here, before any page computes), and
    the UMAP / t-SNE compilation warmed up in the background so no visitor waits for numba's JIT."""
    # Plotly looks pandas up in sys.modules without the import lock; sklearn (PCA, UMAP) imports pandas. Were
    # that import running on another thread (the warm-up below, or another visitor's PCA) while a page builds
    # a figure, plotly would see a half-initialised pandas and fail. Importing it here, once, before any page
    # draws, closes that window.
    import pandas  # noqa: F401

    # Delayed a little: the first visitor's first map should not share the CPU with numba's compiler.
    remove_stale_temps(saved_models_dir())  # what a crash mid-save left behind
    uploads.guard_store()
    timer = threading.Timer(WARM_UP_DELAY_S, _warm_up)
    timer.daemon = True  # never holds up the server's shutdown
    timer.start()
    return configure_threads()


def _warm_up() -> None:
    started = time.perf_counter()
    warm_up_projections()
    # One line in the server log: until it, interactions share the CPU (and the GIL) with numba's compiler.
    print(f"{WARM_UP_DONE} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


SERVER_MODELS_BYTES = 160 * MB  # server-side models in memory at once (the bundled ones take ~15 MB each)
SERVER_MODELS_IDLE_S = 90.0  # ... each let go once no page has used it this long


@st.cache_resource
def _server_models() -> SizedCache:
    return SizedCache(SERVER_MODELS_BYTES, SERVER_MODELS_IDLE_S, on_empty=heap.trim)


def server_model(name: str, modified: float) -> Checkpoint:
    """A server-side checkpoint (bundled or saved), shared by every visitor: inference only, never trained in place.

    The file's modification time is part of the key, so a model saved again under the same name is reloaded.
    """
    return _server_models().get((name, modified), lambda: load_checkpoint(known_checkpoints()[name], limit=refusal))


@st.cache_resource(show_spinner="Loading the data ...", max_entries=4)
def shared_dataset(name: str) -> ImageDataset:
    """A built-in (or server-side) data set by name: the same bytes for every visitor."""
    return load_dataset(name)


@st.cache_resource(show_spinner="Encoding the data ...", max_entries=16)
def _latents(weights: str, data: str, split: str, _checkpoint: Checkpoint, _dataset: ImageDataset) -> Latents:
    return encode_dataset(_checkpoint.model, _dataset, split)


def latents(checkpoint: Checkpoint, dataset: ImageDataset, split: str) -> Latents:
    """Latent means per (weights, data, split), keyed by content; arrays are cached as resources, never pickled."""
    return _latents(checkpoint.fingerprint, dataset.fingerprint, split, checkpoint, dataset)


@st.cache_resource(max_entries=8)
def _exports(weights: str, data: str, split: str, _latents: Latents, label_names: tuple[str, ...]):
    return latents_csv(_latents, label_names), projector_zip(_latents, label_names)


def exports(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents) -> tuple[str, bytes]:
    """The CSV and Embedding Projector zip of a model's latents, made once per (weights, data, split)."""
    return _exports(checkpoint.fingerprint, dataset.fingerprint, split, rows, dataset.label_names)


@st.cache_resource(max_entries=8)
def _measured(data: str, split: str, _dataset: ImageDataset) -> dict[str, np.ndarray]:
    rows = _dataset.split_index(split)
    known = {factor.name: factor.values[rows] for factor in _dataset.factors if not factor.categorical}
    pixels = _dataset.pixels(rows)
    return known | {name: measure(pixels) for name, measure in MEASURES.items() if name not in known}


def measured_attributes(dataset: ImageDataset, split: str) -> dict[str, np.ndarray]:
    """Each quantity of a split's images (in the split's order): the known ones (a sprite's scale), then those
    measured from the pixels; once per data and split."""
    return _measured(dataset.fingerprint, split, dataset)


def known_levels(dataset: ImageDataset, split: str) -> dict[str, np.ndarray]:
    """Each named level of the data's known factors -> the positions of its images in the split."""
    rows = dataset.split_index(split)
    levels: dict[str, np.ndarray] = {}
    for factor in dataset.factors:
        for k, level in enumerate(factor.levels):
            levels.setdefault(level, np.flatnonzero(factor.values[rows] == k))
    return levels


@st.cache_resource(show_spinner="Training a reader for this data (once: it judges what a vector does) ...",
                   max_entries=4)
def _reader(data: str, _dataset: ImageDataset) -> Reader | None:
    return reader_for(_dataset) if _dataset.factors or _dataset.num_classes > 1 else None


def reader(dataset: ImageDataset) -> Reader | None:
    """The network that reads a data set's classes and known factors (trained once, cached); None for unlabelled
    data."""
    return _reader(dataset.fingerprint, dataset)


@st.cache_resource(show_spinner="Scoring the vector ...", max_entries=16)
def _vector_score(weights: str, data: str, split: str, attribute: str, _checkpoint: Checkpoint,
                  _dataset: ImageDataset, _latents: Latents) -> VectorScore:
    return scored(_checkpoint.model, _dataset, _latents, attribute, reader(_dataset))


def vector_score(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents,
                 attribute: str) -> VectorScore:
    """What the attribute's vector does to the split's images, measured; once per model, data, split and attribute."""
    return _vector_score(checkpoint.fingerprint, dataset.fingerprint, split, attribute, checkpoint, dataset, rows)


@st.cache_resource(show_spinner="Choosing an image to apply it to ...", max_entries=16)
def _vector_example(weights: str, data: str, split: str, attribute: str, content: str, _checkpoint: Checkpoint,
                    _dataset: ImageDataset, _latents: Latents, _vector: np.ndarray, _without: np.ndarray) -> Strip:
    found = reader(_dataset)
    read = read_once(found.read) if found else None
    return best_strip(_checkpoint.model, _latents, typical(_latents, _without, EXAMPLES), _vector,
                      measure_for(_dataset, attribute, read), class_reader(found, read))


def vector_example(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents, attribute: str,
                   vector: np.ndarray, without: np.ndarray) -> Strip:
    """Of the EXAMPLES images lacking the attribute nearest their mean, the one whose strip shows the vector best;
    once per model, data, split, attribute and content of the vector and of the images without it."""
    content = hashlib.sha256(np.ascontiguousarray(vector).tobytes() + np.asarray(without).tobytes()).hexdigest()
    return _vector_example(checkpoint.fingerprint, dataset.fingerprint, split, attribute, content, checkpoint,
                           dataset, rows, vector, without)


@st.cache_resource(show_spinner="Reading which factor each dimension moves ...", max_entries=8)
def _dimension_factors(weights: str, data: str, split: str, reach: float, _checkpoint: Checkpoint,
                       _dataset: ImageDataset, _latents: Latents) -> list[DimensionFactor]:
    return dimension_factors(_checkpoint.model, _latents, _dataset, reader(_dataset), reach,
                             class_noun=nouns(_dataset)[1])


def factor_names(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents,
                 reach: float) -> list[DimensionFactor] | None:
    """For a data set with known factors, which one each latent dimension moves most; None for other data."""
    if not dataset.factors or checkpoint.model_config.conditional:
        return None
    return _dimension_factors(checkpoint.fingerprint, dataset.fingerprint, split, reach, checkpoint, dataset, rows)


@st.cache_resource(max_entries=16)
def _mig(weights: str, data: str, split: str, _dataset: ImageDataset, _latents: Latents) -> Mig:
    return mig(_latents.mu, tuple(f.take(_latents.index) for f in _dataset.factors))


def disentanglement(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents) -> Mig:
    """The MIG of a model's latent means against the data's known factors, once per model, data and split."""
    return _mig(checkpoint.fingerprint, dataset.fingerprint, split, dataset, rows)


def measure_of(dataset: ImageDataset, attribute: str) -> Callable[[np.ndarray], np.ndarray]:
    """images -> (N,) how much of the attribute each has (the reader's reading for a known one)."""
    found = reader(dataset)
    return measure_for(dataset, attribute, found.read if found else None)


@st.cache_resource(show_spinner="Scoring the model ...", max_entries=16)
def _scores(weights: str, data: str, split: str, _checkpoint: Checkpoint, _dataset: ImageDataset, _rows: Latents):
    return evaluate(_checkpoint.model, _dataset, split, active_units=False), prior_fit(_rows, _dataset.num_classes)


def scores(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents) -> tuple[Evaluation, PriorFit]:
    """A model's ELBO terms on a split, and how its encoded data fits the prior, once per (weights, data, split)."""
    return _scores(checkpoint.fingerprint, dataset.fingerprint, split, checkpoint, dataset, rows)


class _ContentCache:
    """An LRU of results keyed by content (weights, data, split, settings).

    Hand-rolled rather than st.cache_resource so a page can ask whether a result is ready, and show a quick view
    (the PCA map) or a progress bar while a slower one computes.
    """

    def __init__(self, size: int = 24):
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def compute(self, key: tuple, make: Callable[[], object]):
        found = self.get(key)
        if found is not None:
            return found
        result = make()
        with self._lock:
            self._items[key] = result
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return result


@st.cache_resource
def _projection_cache() -> _ContentCache:
    return _ContentCache()


@st.cache_resource
def _score_cache() -> _ContentCache:
    return _ContentCache(size=16)


def _score_key(checkpoint: Checkpoint, dataset: ImageDataset, split: str, config: ScoreConfig) -> tuple:
    return (checkpoint.fingerprint, dataset.fingerprint, split, config.k, config.seed)


def ready_image_scores(checkpoint: Checkpoint, dataset: ImageDataset, split: str,
                       config: ScoreConfig) -> ImageScores | None:
    return _score_cache().get(_score_key(checkpoint, dataset, split, config))


def image_scores(checkpoint: Checkpoint, dataset: ImageDataset, split: str, config: ScoreConfig,
                 progress: Callable[[float], None] | None = None) -> ImageScores:
    """Every image's log p(x) bound, ELBO, reconstruction and KL, once per (weights, data, split, k, seed)."""
    return _score_cache().compute(_score_key(checkpoint, dataset, split, config), lambda: score_images(
        checkpoint.model, dataset, dataset.split_index(split), k=config.k, seed=config.seed, progress=progress))


def _key(checkpoint: Checkpoint, dataset: ImageDataset, split: str, config: ProjectionConfig) -> tuple:
    return (checkpoint.fingerprint, dataset.fingerprint, split, config.key)


def _shipped(path, rows: Latents, checkpoint: Checkpoint, split: str, config: ProjectionConfig) -> Projection | None:
    """A map shipped beside a server-side checkpoint (made by `python -m explorer embed`), if it matches exactly."""
    if path is None or METHODS[config.method].quick:
        return None
    return load_embedding(embedding_path(path, split, config.method), rows.mu, rows.index,
                          fingerprint=checkpoint.fingerprint, split=split, method=config.method,
                          params=config.params, seed=config.random_seed)


def projection(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents, config: ProjectionConfig,
               server_path=None, progress: Callable[[float], None] | None = None) -> Projection:
    """The map for these settings: from the cache, from a shipped file (server_path: the checkpoint's file), or
    computed now."""

    def make() -> Projection:
        stored = _shipped(server_path, rows, checkpoint, split, config)
        return stored if stored is not None else project(rows.mu, config.method, config.params,
                                                         config.random_seed, progress)

    return _projection_cache().compute(_key(checkpoint, dataset, split, config), make)


def ready_projection(checkpoint: Checkpoint, dataset: ImageDataset, split: str, rows: Latents,
                     config: ProjectionConfig, server_path=None) -> Projection | None:
    """The map if it is ready without computing (in the cache, or shipped beside the checkpoint)."""
    key = _key(checkpoint, dataset, split, config)
    found = _projection_cache().get(key)
    if found is None:
        stored = _shipped(server_path, rows, checkpoint, split, config)
        if stored is not None:
            found = _projection_cache().compute(key, lambda: stored)
    return found


def max_runs() -> int:
    try:
        return max(1, int(os.environ.get("EXPLORER_MAX_RUNS", DEFAULT_MAX_RUNS)))
    except ValueError:
        return DEFAULT_MAX_RUNS


SPEED_TTL_S = 60  # a measured training speed stands for a minute: the server's load changes


@st.cache_resource(ttl=SPEED_TTL_S, max_entries=16, show_spinner="Timing a few training steps ...")
def training_speed(model_config, train_config, data: str, _dataset: ImageDataset) -> float | None:
    """Training images per second for these settings on this server now (explorer.train.measure_speed)."""
    return measure_speed(model_config, _dataset, train_config)


@st.cache_resource
def run_queue() -> RunQueue:
    """The server-wide line for training runs: at most max_runs() train at once, the rest wait in turn."""
    return RunQueue(max_runs())
