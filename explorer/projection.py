"""Projecting latent means to 2-D for the map: identity (2-D latents) and PCA, pure and reproducible."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

METHODS = ("identity", "pca")


class Projection(NamedTuple):
    points: np.ndarray  # (N, 2) float32 map coordinates
    method: str
    axis_titles: tuple[str, str]


def project(mu: np.ndarray, method: str = "identity", seed: int = 0) -> Projection:
    """(N, D) latent means -> (N, 2) map coordinates."""
    if method == "identity":
        if mu.shape[1] != 2:
            raise ValueError(f"The identity map needs a 2-D latent; this one is {mu.shape[1]}-D. Use PCA instead.")
        return Projection(mu.astype(np.float32), method, ("z0", "z1"))
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(mu)
        share = pca.explained_variance_ratio_ * 100
        titles = (f"PC1 ({share[0]:.0f}% of variance)", f"PC2 ({share[1]:.0f}%)")
        return Projection(pca.transform(mu).astype(np.float32), method, titles)
    raise ValueError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")
