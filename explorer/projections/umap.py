"""UMAP (umap-learn): a map that keeps each point's neighbours near it; and UMAP maps aligned across epochs."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from explorer.projections import pca
from explorer.projections.base import NUMBA_PARALLEL, Method, Projection, neighbour_transform, stopped
from explorer.settings import setting

PARAMETERS = {
    "n_neighbors": setting(15, "Neighbours", "UMAP: small keeps local detail, large the global shape.",
                           low=2, high=100, link="nn"),
    "min_dist": setting(0.1, "Minimum distance", "UMAP: how tightly points may be packed together.",
                        low=0.0, high=0.99, step=0.01, link="md"),
}
EPOCHS = 200  # layout epochs (umap-learn: 500): trustworthiness within 0.005 of the default, a third of the time
# Aligned across epochs: each earlier map starts from the later one's layout and needs only a short polish, at a
# learning rate that follows how much the neighbourhoods changed: half the share of neighbours that differ (UMAP's
# own rate is 1). Early epochs, whose neighbours all change, are free to reorganise; late ones keep their points.
WARM_EPOCHS = 50
WARM_RATE_PER_CHANGE = 0.5
MIN_WARM_RATE = 0.02
MIN_POINTS = 4  # below this UMAP cannot build its neighbour graph; such snapshots get the PCA frame


def _fit(mu, params, seed, progress, stop) -> Projection:
    import umap  # heavy (numba): imported only when asked for

    # Exact neighbours from scikit-learn, handed to UMAP: on a few thousand low-dimensional means this is faster
    # than pynndescent and skips its compile.
    distances, neighbours = _neighbours(mu, params["n_neighbors"], algorithm="auto")
    reducer = umap.UMAP(n_neighbors=neighbours.shape[1], min_dist=float(params["min_dist"]), random_state=seed,
                        n_epochs=EPOCHS, precomputed_knn=(neighbours, distances, None))
    with NUMBA_PARALLEL, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)  # seeded = serial, and no search index: chosen
        points = reducer.fit_transform(mu).astype(np.float32)
    return Projection(points, "umap", ("UMAP 1", "UMAP 2"), lambda z: neighbour_transform(mu, points, z),
                      exact=False)


def _neighbours(mu: np.ndarray, k: int, algorithm: str = "ball_tree") -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices) of each point's exact nearest neighbours, itself included.

    Aligning uses a ball tree, on one thread: brute force runs OpenMP threads that spin-wait when a training run or
    another visitor shares the 2 cores.
    """
    from sklearn.neighbors import NearestNeighbors

    k = int(min(k, len(mu) - 1))
    return NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(mu).kneighbors(mu)


def align(mus: list[np.ndarray], seed: int, progress: Callable[[float], None],
          stop: threading.Event | None) -> list[np.ndarray] | None:
    """UMAP maps tied across epochs by their starting points, newest first; None if stopped.

    The newest snapshot gets the Explore page's map. Walking back, each earlier snapshot's UMAP starts from the map
    of the epoch after it, runs a few epochs at a rate set by how much its neighbourhoods changed, and is then
    rotated and scaled onto that map: a point whose neighbours stayed the same stays where it was. One UMAP per
    snapshot, where AlignedUMAP optimises all of them jointly.
    """
    if len(mus[0]) < MIN_POINTS:
        return pca.frame(mus, seed)
    work = np.array([WARM_EPOCHS] * (len(mus) - 1) + [EPOCHS], float)
    done = np.cumsum(work[::-1])[::-1] / work.sum()  # done[i]: the share finished once snapshot i is mapped
    maps: list[np.ndarray] = [np.empty(0)] * len(mus)
    later = None  # (map, neighbours) of the nearest later snapshot with any spread: where the next one starts
    with _one_numba_thread():
        for i in reversed(range(len(mus))):
            if stopped(stop):
                return None
            if np.ptp(mus[i], axis=0).max() == 0:
                # Every point the same (an encoder that ignores its input): one dot, where the later map is centred.
                centre = later[0].mean(axis=0) if later is not None else np.zeros(2, np.float32)
                maps[i] = np.tile(centre, (len(mus[i]), 1)).astype(np.float32)
            else:
                knn = _neighbours(mus[i], PARAMETERS["n_neighbors"].default)
                if later is None:
                    maps[i] = _fit(mus[i], METHOD.defaults(), seed, None, None).points
                else:
                    rate = max(MIN_WARM_RATE, WARM_RATE_PER_CHANGE * (1 - _shared(knn[1], later[1][1])))
                    maps[i] = _onto(_warm_umap(mus[i], knn, later[0], rate, seed), later[0])
                later = (maps[i], knn)
            progress(float(done[i]))
    return maps


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """numba's parallel kernels run on one thread, on this thread only (numba keeps the setting per thread).

    On 1,000 points umap-learn's parallel graph kernels gain nothing from a second thread, and their threads
    wait on each other for far longer when a training run shares the 2 cores.
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _shared(a: np.ndarray, b: np.ndarray) -> float:
    """The mean share of each point's neighbours (rows of indices) that it keeps from `a` to `b`."""
    return float((a[:, :, None] == b[:, None, :]).any(axis=2).mean())


def _warm_umap(
    mu: np.ndarray, knn: tuple[np.ndarray, np.ndarray], init: np.ndarray, rate: float, seed: int
) -> np.ndarray:
    """UMAP of `mu` from `init` (N, 2) in init's own frame: _fit's graph and curve, a few epochs at `rate`.

    umap-learn's own steps, called directly: its UMAP class first rescales a starting layout to a 10 x 10 box,
    which squeezes a map whose natural size is larger and sets every point moving.
    """
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

    distances, neighbours = knn
    random_state = np.random.RandomState(seed)
    a, b = find_ab_params(1.0, float(PARAMETERS["min_dist"].default))
    embedding = np.array(init, np.float32, order="C")  # a copy: optimised in place
    with NUMBA_PARALLEL:
        # return_dists=False as the UMAP class passes it (None would make numba compile another variant).
        graph = fuzzy_simplicial_set(mu, neighbours.shape[1], random_state, "euclidean", knn_indices=neighbours,
                                     knn_dists=distances, return_dists=False)[0].tocoo()
        graph.sum_duplicates()
        graph.data[graph.data < graph.data.max() / WARM_EPOCHS] = 0.0  # as umap-learn: too weak to be sampled
        graph.eliminate_zeros()
        rng_state = random_state.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3).astype(np.int64)
        return optimize_layout_euclidean(
            embedding, embedding, graph.row, graph.col, WARM_EPOCHS, graph.shape[1],
            make_epochs_per_sample(graph.data, WARM_EPOCHS), a, b, rng_state, initial_alpha=rate, move_other=True,
        )


def _onto(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`points` rotated (never mirrored) to lie closest to `target`, and shifted and scaled to its centre and spread.

    A snapshot whose neighbourhoods changed a lot settles at a size and turn of its own. The scale matches the
    spreads rather than fitting least squares, which would shrink such a map towards a dot.
    """
    a, b = points - points.mean(axis=0), target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    flip = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    scale = np.sqrt((b**2).sum() / max((a**2).sum(), 1e-12))
    return (a @ (u @ flip @ vt) * scale + target.mean(axis=0)).astype(np.float32)


METHOD = Method("umap", "UMAP", _fit, PARAMETERS, random=True, align=align)
