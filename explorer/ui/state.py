"""What the pages share: the model chooser, per-visitor picks, and server-wide read-only caches."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import streamlit as st

from explorer.checkpoint import Checkpoint, CheckpointError, known_checkpoints, load_checkpoint
from explorer.data import BUILTIN_DATASETS, ImageDataset, load_dataset
from explorer.embedfile import embedding_path, load_embedding
from explorer.export import latents_csv, projector_zip
from explorer.latent import Latents, encode_dataset
from explorer.projection import DEFAULT_PARAMS, Projection, project, warm_up_projections
from explorer.runtime import configure_threads
from explorer.ui import url

DEFAULT_MODEL = "mnist5k-z2"
SPLITS = ("test", "train", "all")
UPLOAD_PREFIX = "uploaded: "
SESSION_DATA_PREFIX = "upload: "  # names of a visitor's uploaded data sets (never file paths)
TRAINED_PREFIX = "trained: "
WARM_UP_DELAY_S = 8.0
WARM_UP_DONE = "VAE Latent Explorer: background warm-up done"  # the server log's line when it has finished
DEFAULT_MAX_RUNS = 2  # concurrent training runs per server; $EXPLORER_MAX_RUNS overrides
MAX_CHECKPOINT_UPLOAD_MB = 64
# Widget keys that both pages render: re-assigning them at the top of a page keeps their values when the
# visitor switches pages (Streamlit drops the state of widgets that one run does not render).
SHARED_WIDGET_KEYS = ("model_name", "split")


@dataclass(frozen=True)
class Selection:
    """The model in use and its data, as every page needs them."""

    name: str
    checkpoint: Checkpoint
    dataset: ImageDataset | None  # None when the model's data is not available here
    split: str
    data_problem: str | None  # why dataset is None


# ---------------------------------------------------------------------------------------------------------------
# Server-wide caches: read-only things keyed by content, shared by every visitor.


@st.cache_resource
def start_up() -> int:
    """Once per server process: torch threads (process-wide, so decided here, before any page computes), and
    the UMAP / t-SNE compilation warmed up in the background so no visitor waits ~30 s for numba's JIT."""
    # Plotly looks pandas up in sys.modules without the import lock; sklearn (PCA, UMAP) imports pandas. Were
    # that import running on another thread (the warm-up below, or another visitor's PCA) while a page builds
    # a figure, plotly would see a half-initialised pandas and fail. Importing it here, once, before any page
    # draws, closes that window.
    import pandas  # noqa: F401

    # Delayed a little: the first visitor's first map should not share the CPU with numba's compiler.
    timer = threading.Timer(WARM_UP_DELAY_S, _warm_up)
    timer.daemon = True  # never holds up the server's shutdown
    timer.start()
    return configure_threads()


def _warm_up() -> None:
    started = time.perf_counter()
    warm_up_projections()
    # One line in the server log: until it, interactions share the CPU (and the GIL) with numba's compiler.
    print(f"{WARM_UP_DONE} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


@st.cache_resource(show_spinner="Loading the model ...", max_entries=8)
def server_model(name: str, modified: float) -> Checkpoint:
    """A server-side checkpoint (bundled or saved), shared by every visitor: inference only, never trained in place.

    The file's modification time is part of the key, so a model saved again under the same name is reloaded.
    """
    return load_checkpoint(known_checkpoints()[name])


@st.cache_resource(show_spinner="Loading the data ...", max_entries=4)
def shared_dataset(name: str) -> ImageDataset:
    return load_dataset(name)


def dataset_named(name: str) -> ImageDataset:
    """The visitor's own uploaded data set of that name, else a built-in or server-side one (shared, cached)."""
    session_data = st.session_state.get("session_datasets", {})
    return session_data[name] if name in session_data else shared_dataset(name)


@st.cache_resource(show_spinner="Encoding the data ...", max_entries=16)
def latents(fingerprint: str, dataset_name: str, split: str, _checkpoint: Checkpoint, _dataset: ImageDataset) -> Latents:
    """Latent means per (weights, data, split); arrays are cached as resources, never pickled."""
    return encode_dataset(_checkpoint.model, _dataset, split)


class _ProjectionCache:
    """An LRU of projections keyed by (weights, data, split, method, params, seed).

    Hand-rolled rather than st.cache_resource so a page can ask whether a result is ready, and show the
    PCA map at once while a slower projection computes.
    """

    def __init__(self, size: int = 24):
        self._items: OrderedDict[tuple, Projection] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple) -> Projection | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def compute(self, key: tuple, make: Callable[[], Projection]) -> Projection:
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
def projection_cache() -> _ProjectionCache:
    return _ProjectionCache()


def projection_key(selection: Selection, method: str, params: dict[str, Any], seed: int) -> tuple:
    return (selection.checkpoint.fingerprint, selection.dataset.name, selection.split, method,
            tuple(sorted(params.items())), seed)


def _stored_projection(selection: Selection, mu: np.ndarray, index: np.ndarray, method: str,
                       params: dict[str, Any], seed: int) -> Projection | None:
    """A map shipped beside a server-side checkpoint (made by `python -m explorer embed`), if it matches exactly."""
    path = known_checkpoints().get(selection.name)  # session models are never server files
    if path is None or method in ("identity", "pca"):
        return None
    return load_embedding(embedding_path(path, selection.split, method), mu, index,
                          fingerprint=selection.checkpoint.fingerprint, split=selection.split, method=method,
                          params={**DEFAULT_PARAMS[method], **params}, seed=seed)


def get_projection(selection: Selection, latents: Latents, method: str, params: dict[str, Any], seed: int,
                   progress: Callable[[float], None] | None = None) -> Projection:
    """The map for these settings: from the cache, from a shipped file, or computed now."""
    key = projection_key(selection, method, params, seed)

    def make() -> Projection:
        stored = _stored_projection(selection, latents.mu, latents.index, method, params, seed)
        return stored if stored is not None else project(latents.mu, method, params, seed, progress)

    return projection_cache().compute(key, make)


def cached_projection(selection: Selection, latents: Latents, method: str, params: dict[str, Any],
                      seed: int) -> Projection | None:
    """The map if it is ready without computing (in the cache, or shipped beside the checkpoint)."""
    key = projection_key(selection, method, params, seed)
    found = projection_cache().get(key)
    if found is None:
        stored = _stored_projection(selection, latents.mu, latents.index, method, params, seed)
        if stored is not None:
            found = projection_cache().compute(key, lambda: stored)
    return found


def max_runs() -> int:
    try:
        return max(1, int(os.environ.get("EXPLORER_MAX_RUNS", DEFAULT_MAX_RUNS)))
    except ValueError:
        return DEFAULT_MAX_RUNS


@st.cache_resource
def run_slots() -> threading.BoundedSemaphore:
    """The server-wide cap on concurrent training runs (one semaphore shared by every visitor)."""
    return threading.BoundedSemaphore(max_runs())


class JobHolder:
    """A visitor's current training run. Lives in a session-scoped cache, so closing the tab stops the run."""

    def __init__(self):
        self.job = None

    def replace(self, job) -> None:
        if self.job is not None:
            self.job.stop()
        self.job = job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()


@st.cache_resource(scope="session", on_release=JobHolder.stop)
def job_holder() -> JobHolder:
    return JobHolder()


# ---------------------------------------------------------------------------------------------------------------
# Per-visitor state


def keep_shared_widgets() -> None:
    for key in SHARED_WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def picks() -> list[int]:
    """Dataset rows the visitor picked on the map, oldest first, at most two."""
    return st.session_state.setdefault("picks", [])


def clear_picks() -> None:
    st.session_state["picks"] = []


def _on_upload() -> None:
    """Callback: load an uploaded checkpoint; on failure keep the current model and remember the message."""
    upload = st.session_state.get("upload_checkpoint")
    st.session_state.pop("upload_error", None)
    if upload is None:
        return
    try:
        checkpoint = load_checkpoint(upload.getvalue(), name=upload.name)
    except CheckpointError as error:
        st.session_state["upload_error"] = str(error)
        return
    add_session_model(UPLOAD_PREFIX + upload.name, checkpoint)


def add_session_model(name: str, checkpoint: Checkpoint) -> None:
    """Add an uploaded or freshly trained model to this visitor's list and switch to it (call from a callback)."""
    st.session_state["session_models"] = {**st.session_state.get("session_models", {}), name: checkpoint}
    st.session_state["model_name"] = name
    clear_picks()


def dataset_for(checkpoint: Checkpoint, trusted: bool) -> tuple[ImageDataset | None, str | None]:
    """The data a model was trained on, if it can be had here.

    Built-in names always; a file path only for server-side (trusted) checkpoints: a visitor's upload
    never makes the server open a path.
    """
    name = checkpoint.dataset
    if not (trusted or name in BUILTIN_DATASETS or name in st.session_state.get("session_datasets", {})):
        return None, (
            f"This model was trained on {name!r}, which is not available here, so there is no map to show. "
            "The Generate page works without data."
        )
    try:
        data = dataset_named(name)
    except ValueError as error:
        return None, f"The data this model was trained on could not be loaded: {error}"
    if data.image_shape != checkpoint.image_shape:
        return None, f"{name!r} has {data.image_shape} images but the model expects {checkpoint.image_shape}."
    return data, None


def model_sidebar() -> Selection:
    """The sidebar every page shares: choose a bundled or uploaded model, upload one, and the data split."""
    start_up()
    keep_shared_widgets()
    visit = url.first_visit()
    if visit is not None:
        url.restore_model(*visit)
    uploaded: dict[str, Checkpoint] = st.session_state.get("session_models", {})
    server_side = known_checkpoints()
    names = list(server_side) + list(uploaded)
    if not names:
        st.error("No models found: train one with 'python -m explorer train' into checkpoints/.")
        st.stop()
    if st.session_state.get("model_name") not in names:
        st.session_state["model_name"] = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
    with st.sidebar:
        name = st.selectbox("Model", names, key="model_name", on_change=clear_picks)
        st.file_uploader(
            "Or upload a checkpoint (.safetensors)",
            type=["safetensors"],
            key="upload_checkpoint",
            on_change=_on_upload,
            max_upload_size=MAX_CHECKPOINT_UPLOAD_MB,
            help="A model trained with this app or its CLI. It stays in your session only.",
        )
        if st.session_state.get("upload_error"):
            st.error(st.session_state["upload_error"] + " The current model stays in use.")
        split = st.radio("Data split", SPLITS, key="split", horizontal=True, on_change=clear_picks)
    checkpoint = uploaded[name] if name in uploaded else server_model(name, server_side[name].stat().st_mtime)
    data, problem = dataset_for(checkpoint, trusted=name not in uploaded)
    config = checkpoint.model_config
    with st.sidebar:
        st.caption(
            f"{config.arch.upper()} VAE · {config.latent_dim}-D latent · {config.likelihood}"
            f"{' · conditional' if config.conditional else ''} · trained on {checkpoint.dataset}"
        )
    selection = Selection(name, checkpoint, data, split, problem)
    if visit is not None:
        rows = current_latents(selection).index if data is not None else None
        url.restore_view(visit[0], config.latent_dim, rows, checkpoint.model.num_classes, visit[1])
    return selection


def shared_view(selection: Selection) -> dict[str, Any]:
    """The URL parameters every page shares: the model (if others can open it), the split and the picks."""
    return {"model": selection.name if selection.name in known_checkpoints() else None, "split": selection.split,
            "picks": ",".join(str(r) for r in picks()) or None}


@st.cache_resource(max_entries=8)
def exports(fingerprint: str, dataset_name: str, split: str, _latents: Latents, label_names: tuple[str, ...]):
    """The CSV and Embedding Projector zip of a model's latents, made once per (weights, data, split)."""
    return latents_csv(_latents, label_names), projector_zip(_latents, label_names)


def current_latents(selection: Selection) -> Latents:
    return latents(selection.checkpoint.fingerprint, selection.dataset.name, selection.split,
                   selection.checkpoint, selection.dataset)
