"""Projecting latent means to 2-D for the map (identity, PCA, UMAP, t-SNE), and placing new points on it."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np

from explorer.config import PROJECTIONS as METHODS
from explorer.config import ProjectionConfig
from explorer.settings import specs

TSNE_ITERATIONS = 300
METHOD_LABELS = specs(ProjectionConfig)["method"][1].names
# umap-learn runs numba `parallel=True` kernels. Where numba's only threading layer is "workqueue" (no OpenMP
# or TBB runtime on the host), two threads launching them at once abort the whole process: two visitors, or a
# visitor and the server's warm-up. One at a time, then; on 2 cores running them side by side gains nothing.
_NUMBA_PARALLEL = threading.Lock()


@dataclass(frozen=True, eq=False)
class Projection:
    """Map coordinates for the encoded points, and how to place new latent vectors on the same map."""

    points: np.ndarray  # (N, 2) float32
    method: str
    axis_titles: tuple[str, str]
    transform: Callable[[np.ndarray], np.ndarray] = field(repr=False)  # (M, D) latents -> (M, 2)
    exact: bool = True  # False where new points are placed approximately (UMAP, t-SNE)


def methods_for(latent_dim: int) -> tuple[str, ...]:
    """The projections that make sense for a latent size: identity only for 2-D."""
    return METHODS if latent_dim == 2 else tuple(m for m in METHODS if m != "identity")


def project(
    mu: np.ndarray,
    method: str = "identity",
    params: dict[str, Any] | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Projection:
    """(N, D) latent means -> a Projection; `progress` (0..1) is called where the method reports it."""
    mu = np.asarray(mu, np.float32)
    params = {**ProjectionConfig(method=method).params, **(params or {})}  # defaults: umap-learn's and openTSNE's
    if method == "identity":
        if mu.shape[1] != 2:
            raise ValueError(f"The identity map needs a 2-D latent; this one is {mu.shape[1]}-D. Use PCA instead.")
        return Projection(mu, method, ("z0", "z1"), lambda z: np.asarray(z, np.float32))
    if mu.shape[1] == 1:
        # One dimension: spread the points by z0 and keep y at 0, so the map is still a map.
        return Projection(
            np.column_stack([mu[:, 0], np.zeros(len(mu), np.float32)]), method, ("z0", ""),
            lambda z: np.column_stack([np.asarray(z, np.float32)[:, 0], np.zeros(len(z), np.float32)]),
        )
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(mu)
        share = pca.explained_variance_ratio_ * 100
        titles = (f"PC1 ({share[0]:.0f}% of variance)", f"PC2 ({share[1]:.0f}%)")
        return Projection(pca.transform(mu).astype(np.float32), method, titles,
                          lambda z: pca.transform(np.asarray(z, np.float32)).astype(np.float32))
    if method == "umap":
        import umap  # heavy (numba): imported only when asked for
        from sklearn.neighbors import NearestNeighbors

        # Exact neighbours from scikit-learn, handed to UMAP: on a few thousand low-dimensional means this is
        # faster than pynndescent and skips its ~30 s compile; and 200 layout epochs instead of 500 keep
        # trustworthiness within 0.005 of umap-learn's defaults (bench/projection.py) at a third of the time.
        k = int(min(params["n_neighbors"], len(mu) - 1))
        distances, neighbours = NearestNeighbors(n_neighbors=k).fit(mu).kneighbors(mu)
        reducer = umap.UMAP(n_neighbors=k, min_dist=float(params["min_dist"]), random_state=seed, n_epochs=200,
                            precomputed_knn=(neighbours, distances, None))
        with _NUMBA_PARALLEL, warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)  # seeded = serial, and no search index: chosen
            points = reducer.fit_transform(mu).astype(np.float32)
        return Projection(points, method, ("UMAP 1", "UMAP 2"), lambda z: neighbour_transform(mu, points, z),
                          exact=False)
    if method == "tsne":
        from openTSNE import TSNE

        # Exact neighbours and 300 main iterations (openTSNE's defaults: approximate, 500): 5k means in ~7 s
        # on 2 cores instead of ~13, with the same trustworthiness (bench/projection.py).
        every, total, calls = 25, 250 + TSNE_ITERATIONS, [0]

        def report(iteration, error, embedding) -> bool:
            calls[0] += 1  # the iteration counter restarts in each phase: count the calls instead
            if progress is not None:
                progress(min(1.0, calls[0] * every / total))
            return False  # False: keep optimising

        embedding = TSNE(
            perplexity=float(params["perplexity"]), random_state=seed, n_jobs=2, neighbors="exact",
            n_iter=TSNE_ITERATIONS, callbacks=report, callbacks_every_iters=every,
        ).fit(mu)
        return Projection(np.asarray(embedding, np.float32), method, ("t-SNE 1", "t-SNE 2"),
                          lambda z: np.asarray(embedding.transform(np.asarray(z, np.float32)), np.float32),
                          exact=False)
    raise ValueError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")


def warm_up_projections() -> None:
    """Run UMAP and t-SNE once on a little random data: numba compiles their kernels on first use in a process.

    Also builds one optimiser: torch imports torch._dynamo (~1.7 s) for the first one in a process, which
    would otherwise delay a visitor's first training run.
    """
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    data = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    for method in ("umap", "tsne"):
        project(data, method).transform(data[:5])  # placing new points compiles kernels of its own


def neighbour_transform(mu: np.ndarray, points: np.ndarray, z: np.ndarray, k: int = 10) -> np.ndarray:
    """Place new latents on a map: the inverse-distance-weighted mean of their k nearest data points' positions."""
    z = np.asarray(z, np.float32)
    distance = np.linalg.norm(z[:, None, :] - mu[None, :, :], axis=-1)  # (M, N)
    nearest = np.argsort(distance, axis=1)[:, :k]
    weights = 1.0 / (np.take_along_axis(distance, nearest, axis=1) + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return (points[nearest] * weights[..., None]).sum(axis=1).astype(np.float32)
