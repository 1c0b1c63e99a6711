"""Projecting latent means to 2-D for the map (identity, PCA, UMAP, t-SNE), and placing new points on it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

METHODS = ("identity", "pca", "umap", "tsne")
METHOD_LABELS = {"identity": "Identity (z0, z1)", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "identity": {},
    "pca": {},
    "umap": {"n_neighbors": 15, "min_dist": 0.1},  # umap-learn's defaults
    "tsne": {"perplexity": 30.0},  # openTSNE's default
}


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
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
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

        reducer = umap.UMAP(
            n_neighbors=int(params["n_neighbors"]), min_dist=float(params["min_dist"]), random_state=seed
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)  # seeded = serial: chosen
            points = reducer.fit_transform(mu).astype(np.float32)
        return Projection(points, method, ("UMAP 1", "UMAP 2"),
                          lambda z: reducer.transform(np.asarray(z, np.float32)).astype(np.float32), exact=False)
    if method == "tsne":
        from openTSNE import TSNE

        every, total, calls = 25, 250 + 500, [0]  # openTSNE's default early-exaggeration + main iterations

        def report(iteration, error, embedding) -> bool:
            calls[0] += 1  # the iteration counter restarts in each phase: count the calls instead
            if progress is not None:
                progress(min(1.0, calls[0] * every / total))
            return False  # False: keep optimising

        embedding = TSNE(
            perplexity=float(params["perplexity"]), random_state=seed, n_jobs=2,
            callbacks=report, callbacks_every_iters=every,
        ).fit(mu)
        return Projection(np.asarray(embedding, np.float32), method, ("t-SNE 1", "t-SNE 2"),
                          lambda z: np.asarray(embedding.transform(np.asarray(z, np.float32)), np.float32),
                          exact=False)
    raise ValueError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")
