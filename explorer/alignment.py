"""Maps of the same points at several epochs, on common axes: identity, PCA, or UMAP aligned across epochs."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from collections.abc import Callable, Iterator

import numpy as np

from explorer.config import ProjectionConfig
from explorer.projection import _NUMBA_PARALLEL, project

ALIGN_METHODS = ("identity", "pca", "umap")
FRESH_EPOCHS = 200  # the newest map: project()'s UMAP, from a spectral start
# Each earlier map starts from the later one's layout and needs only a short polish, at a learning rate that
# follows how much the neighbourhoods changed: half the share of neighbours that differ (UMAP's own rate is 1).
# Early epochs, whose neighbours all change, are free to reorganise; late ones keep their points in place.
WARM_EPOCHS = 50
WARM_RATE_PER_CHANGE = 0.5
MIN_WARM_RATE = 0.02
MIN_UMAP_POINTS = 4  # below this UMAP cannot build its neighbour graph; such snapshots get the PCA frame


def align_snapshots(
    snapshots: list[np.ndarray],
    method: str = "pca",
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> list[np.ndarray] | None:
    """2-D maps of the same points at several epochs, on common axes; None if `stop` was set before the end.

    identity: the 2-D latent as it is. pca: one PCA, fitted on the newest snapshot, applied to all (a single
    linear frame, so no axis flips between epochs). umap: see _aligned_umap. `progress` (0..1) is called as
    the work advances, after every snapshot for UMAP.
    """
    mus = [np.asarray(m, np.float32) for m in snapshots]
    if not mus:
        return []
    dim = mus[0].shape[1]
    if method == "identity" or dim == 1:
        if dim > 2:
            raise ValueError("The identity map needs a 2-D latent; use PCA or UMAP.")
        maps = [m if dim == 2 else np.column_stack([m[:, 0], np.zeros(len(m), np.float32)]) for m in mus]
    elif method == "pca" or (method == "umap" and len(mus[0]) < MIN_UMAP_POINTS):
        maps = _pca_frame(mus, seed)
    elif method == "umap":
        with _one_numba_thread():
            return _aligned_umap(mus, seed, progress or (lambda fraction: None), stop)
    else:
        raise ValueError(f"Snapshots can be aligned by {', '.join(ALIGN_METHODS)}, not {method!r}.")
    if progress is not None:
        progress(1.0)
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


def _pca_frame(mus: list[np.ndarray], seed: int) -> list[np.ndarray]:
    from sklearn.decomposition import PCA

    if len(mus[-1]) < 2:  # a single point: no axes to find
        return [np.zeros((len(m), 2), np.float32) for m in mus]
    pca = PCA(n_components=2, random_state=seed).fit(mus[-1])
    return [pca.transform(m).astype(np.float32) for m in mus]


def _aligned_umap(
    mus: list[np.ndarray], seed: int, progress: Callable[[float], None], stop: threading.Event | None
) -> list[np.ndarray] | None:
    """UMAP maps tied across epochs by their starting points, newest first.

    The newest snapshot gets project()'s map (so it matches the explore page). Walking back, each earlier
    snapshot's UMAP starts from the map of the epoch after it, runs a few epochs at a rate set by how much its
    neighbourhoods changed, and is then rotated and scaled onto that map: a point whose neighbours stayed the
    same stays where it was. One UMAP per snapshot, where AlignedUMAP optimises all of them jointly.
    """
    work = np.array([WARM_EPOCHS] * (len(mus) - 1) + [FRESH_EPOCHS], float)
    done = np.cumsum(work[::-1])[::-1] / work.sum()  # done[i]: the share finished once snapshot i is mapped
    maps: list[np.ndarray] = [np.empty(0)] * len(mus)
    later = None  # (map, neighbours) of the nearest later snapshot with any spread: where the next one starts
    for i in reversed(range(len(mus))):
        if stop is not None and stop.is_set():
            return None
        if np.ptp(mus[i], axis=0).max() == 0:
            # Every point the same (an encoder that ignores its input): one dot, where the later map is centred.
            centre = later[0].mean(axis=0) if later is not None else np.zeros(2, np.float32)
            maps[i] = np.tile(centre, (len(mus[i]), 1)).astype(np.float32)
        else:
            knn = _neighbours(mus[i])
            if later is None:
                maps[i] = project(mus[i], "umap", seed=seed).points
            else:
                rate = max(MIN_WARM_RATE, WARM_RATE_PER_CHANGE * (1 - _shared(knn[1], later[1][1])))
                maps[i] = _onto(_warm_umap(mus[i], knn, later[0], rate, seed), later[0])
            later = (maps[i], knn)
        progress(float(done[i]))
    return maps


def _neighbours(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices) of each point's exact nearest neighbours, itself included, as project() finds them.

    A ball tree, on one thread: brute force runs OpenMP threads that spin-wait when a training run or another
    visitor shares the 2 cores, and then takes ~0.15 s a snapshot instead of ~0.02.
    """
    from sklearn.neighbors import NearestNeighbors

    k = int(min(ProjectionConfig(method="umap").n_neighbors, len(mu) - 1))
    return NearestNeighbors(n_neighbors=k, algorithm="ball_tree").fit(mu).kneighbors(mu)


def _shared(a: np.ndarray, b: np.ndarray) -> float:
    """The mean share of each point's neighbours (rows of indices) that it keeps from `a` to `b`."""
    return float((a[:, :, None] == b[:, None, :]).any(axis=2).mean())


def _warm_umap(
    mu: np.ndarray, knn: tuple[np.ndarray, np.ndarray], init: np.ndarray, rate: float, seed: int
) -> np.ndarray:
    """UMAP of `mu` from `init` (N, 2) in init's own frame: project()'s graph and curve, a few epochs at `rate`.

    umap-learn's own steps, called directly: its UMAP class first rescales a starting layout to a 10 x 10 box,
    which squeezes a map whose natural size is larger and sets every point moving.
    """
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

    distances, neighbours = knn
    random_state = np.random.RandomState(seed)
    a, b = find_ab_params(1.0, float(ProjectionConfig(method="umap").min_dist))
    embedding = np.array(init, np.float32, order="C")  # a copy: optimised in place
    with _NUMBA_PARALLEL:
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


def common_range(maps: list[np.ndarray], margin: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """One (x, y) range that holds every map, with a margin: fixed axes across snapshots."""
    stacked = np.concatenate(maps)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    pad = (high - low) * margin + 1e-6
    return (float(low[0] - pad[0]), float(high[0] + pad[0])), (float(low[1] - pad[1]), float(high[1] + pad[1]))
